package dev.throttle.http;

import java.util.concurrent.CompletableFuture;

/**
 * One request being admitted: its {@link #verdict()} comes at once (passed on, refused) or later (after waiting its
 * turn in delay mode, or when a remote store answers). Meanwhile the adapter holds no thread, and tells the admission
 * when the exchange ends early: the client went away, or the adapter's own timeout ran out. Either cancels the
 * request's place in the queue and returns its tokens, so those behind it move up.
 *
 * <p>Thread-safe: {@link #cancel} may race with the verdict; exactly one of them wins, and the verdict says which.
 */
public interface Admission {

  /** Why an adapter gives up on a request before its verdict. */
  enum Cancel {
    /**
     * The client disconnected, reset its stream, or its exchange failed: the verdict becomes
     * {@link Verdict.Outcome#CLIENT_GONE}, whose {@code 503} an adapter sends only if it cannot tell that nobody
     * listens.
     */
    CLIENT_GONE,
    /** The adapter stopped waiting (an async timeout): the verdict becomes {@code 503} with {@code Retry-After}. */
    TIMED_OUT
  }

  /**
   * The verdict: never fails, and completes exactly once, in the thread that decides it (the caller's when known at
   * once; the limiter's scheduler thread after a wait; a remote store's thread). Carry out anything slow elsewhere.
   * The future returned is a copy: completing or cancelling it changes nothing here (use {@link #cancel}).
   */
  CompletableFuture<Verdict> verdict();

  /**
   * Gives up on the request if it has no verdict yet: a waiting place is freed and its tokens returned, and the
   * verdict completes as {@link Verdict.Outcome#CLIENT_GONE} or {@link Verdict.Outcome#TIMED_OUT}.
   *
   * @return true if this call decided the verdict; false if it was already decided (the request may have been passed
   *     on at this very moment: then its tokens are spent)
   */
  boolean cancel(Cancel reason);
}
