package dev.throttle.client;

import java.util.concurrent.CompletableFuture;

/**
 * One request sent through a {@link ThrottledHttpClient}, with all its attempts. Thread-safe.
 *
 * @param <T> the response body type
 */
public interface Call<T> {

  /**
   * The outcome, once the call has ended. The future always completes normally, with a {@link Outcome.Status}
   * saying how the call ended (a cancelled call completes with {@link Outcome.Status#CANCELLED}). It is a copy:
   * cancelling it does not cancel the call; use {@link #cancel()}. Dependent actions run in the client's threads;
   * use the {@code ...Async} methods for slow work.
   */
  CompletableFuture<Outcome<T>> outcome();

  /**
   * Stops the call wherever it is: waiting for a slot, waiting to retry, or in flight (the exchange is aborted). Its
   * outcome is then {@link Outcome.Status#CANCELLED}, with the attempts sent so far.
   *
   * @return true if this cancelled it; false if it had already ended
   */
  boolean cancel();
}
