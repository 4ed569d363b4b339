package dev.throttle.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A place in a limiter's queue: the request it stands for may proceed when the reservation is
 * {@linkplain #isReady() ready}. Reservations are served first come, first served: no later request overtakes one.
 *
 * <p>A reservation takes its tokens when it becomes ready. {@link #cancel() Cancelling} it before then frees its
 * place. In process, everything behind it moves up and the limiter is left exactly as if it had never been made
 * ({@link KeyedRateLimiter.Cancellation#EXACT}); a store whose waiters are in other processes gives the tokens back
 * only when no later reservation was made ({@link KeyedRateLimiter.Cancellation#IF_LAST}, Redis), and
 * {@link #refunded()} says which happened. Once ready, the tokens are spent and cancel does nothing.
 *
 * <p>A reservation whose wait would exceed the limit asked for is not {@linkplain #isGranted() granted}: nothing is
 * queued or taken, and {@link #decision()} says how long the wait would have been.
 *
 * <p>Thread-safe.
 */
public interface Reservation {

  /**
   * A reservation that was ready at once: its tokens were taken when {@code decision} (allowed) was made. For stores
   * kept elsewhere (throttle-redis) and for fallbacks, which answer without a queue of their own.
   *
   * @throws IllegalArgumentException if {@code decision} is not allowed
   */
  static Reservation ready(Decision decision) {
    if (!decision.isAllowed()) {
      throw new IllegalArgumentException("a ready reservation needs an allowed decision, got " + decision);
    }
    return new Reservations.Immediate(decision);
  }

  /**
   * A reservation not granted: nothing was queued or taken; {@code decision} (refused) says how long the wait would
   * have been. Its {@link #whenReady()} fails with {@link RateLimitExceededException}.
   *
   * @throws IllegalArgumentException if {@code decision} is allowed
   */
  static Reservation notGranted(Decision decision) {
    if (decision.isAllowed()) {
      throw new IllegalArgumentException("a reservation not granted needs a refused decision, got " + decision);
    }
    return new Reservations.Refused(decision);
  }

  /** Whether the reservation holds a place (or was ready at once); false when the wait was too long. */
  boolean isGranted();

  /**
   * The decision when the reservation was made, which agrees with {@link #isGranted()}: allowed when ready at once;
   * allowed after the estimated wait ({@link Decision#allowedAfter}) when granted with a wait; refused, with the
   * wait that was too long, when not granted.
   */
  Decision decision();

  /**
   * The estimated delay when the reservation was made: 0 when ready at once. The request may proceed sooner if a
   * reservation ahead is cancelled, and a little later if the scheduler thread is late.
   */
  Duration delay();

  /** {@link #delay()} in nanoseconds. */
  long delayNanos();

  /** Whether the request may proceed now. */
  boolean isReady();

  /**
   * A future completed when the request may proceed: completed already when ready at once, failed with
   * {@link RateLimitExceededException} when not granted. Cancelling the future cancels the reservation.
   * Dependent actions run in the thread that makes the reservation ready (normally the scheduler's); use the
   * {@code ...Async} methods of {@link CompletableFuture} for anything slow.
   */
  CompletableFuture<Void> whenReady();

  /**
   * Waits until the request may proceed.
   *
   * @throws InterruptedException if interrupted while waiting; the reservation is then cancelled and its place freed
   *     (if it became ready at the same moment, this returns normally with the interrupt status set)
   * @throws RateLimitExceededException if the reservation was not granted
   * @throws java.util.concurrent.CancellationException if it was cancelled
   */
  void await() throws InterruptedException;

  /**
   * Frees the place if the reservation is still waiting; what it gives back is {@link #refunded()}.
   *
   * @return true if it was waiting and is now cancelled; false if it was ready (its tokens are spent), already
   *     cancelled, or never granted
   */
  boolean cancel();

  /**
   * What a cancellation gave back: completes with true once the reservation is cancelled and its tokens are given
   * back (the limiter as if it had never been made), with false when it became ready (its tokens are spent), was
   * ready at once or never granted, or was cancelled but its store kept the tokens spent (see
   * {@link KeyedRateLimiter.Cancellation#IF_LAST}, or a store that could not be reached). Incomplete while the
   * reservation waits. For a remote store it may complete a round trip after {@link #cancel()} returned.
   */
  default CompletableFuture<Boolean> refunded() {
    return CompletableFuture.completedFuture(false);
  }
}
