package dev.throttle.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Per-key limits kept somewhere: in this process ({@link KeyedRateLimiter#asStore()}) or shared by many processes
 * (throttle-redis). The server side and the gateway decide through this interface and do not know which it is.
 * Answers are futures because a remote store answers later; an in-process store answers at once.
 *
 * <p>One store enforces one {@link Limit} (which may combine several buckets, decided all or nothing) for every
 * key. Implementations are thread-safe.
 */
public interface RateLimitStore<K> {

  /** The limit every key gets. */
  Limit limit();

  /**
   * Takes {@code cost} tokens for {@code key} if they are there now; the decision says so, with remaining, wait
   * and reset.
   *
   * @throws IllegalArgumentException (at once, not in the future) if {@code cost} is below 1 or above the burst
   */
  CompletableFuture<Decision> decide(K key, long cost);

  /**
   * Reserves {@code cost} tokens for {@code key}: ready now, ready after a wait of at most {@code maxWait}, or not
   * granted (nothing taken). Cancelling a reservation that is still waiting gives its tokens back as
   * {@link #cancellation()} says; {@link Reservation#refunded()} tells what one cancel did.
   *
   * @throws IllegalArgumentException (at once) if {@code cost} is below 1 or above the burst, or {@code maxWait}
   *     is negative
   */
  CompletableFuture<Reservation> reserve(K key, long cost, Duration maxWait);

  /**
   * What {@link #decide} would answer now for {@code key}, taking nothing (and, in process, adding no key). A
   * snapshot: another caller may take the tokens first.
   *
   * @throws IllegalArgumentException (at once) if {@code cost} is below 1 or above the burst
   */
  default CompletableFuture<Decision> estimate(K key, long cost) {
    return CompletableFuture.failedFuture(
        new UnsupportedOperationException(getClass().getName() + " does not implement estimate"));
  }

  /**
   * What cancelling a waiting reservation gives back in this store. {@link Cancellation#EXACT} unless the store
   * says otherwise: the in-process store is exact, the Redis store {@link Cancellation#IF_LAST}.
   */
  default Cancellation cancellation() {
    return Cancellation.EXACT;
  }

  /** What cancelling a waiting reservation gives back; stores differ, and each states which it keeps. */
  enum Cancellation {
    /**
     * The waiters of a key are one queue: cancelling frees the place, the reservations behind move up, and the key
     * is exactly as if the reservation had never been made. In process ({@link KeyedRateLimiter},
     * {@link RateLimiter}).
     */
    EXACT,
    /**
     * Each reservation is given its time when it is made, and the waiters may be in other processes, so they cannot
     * be moved up: cancelling gives the tokens back (exactly, as if it had never been made) only if no later
     * reservation was made on the key since; otherwise its tokens stay spent, and the limit holds with room to
     * spare. Redis.
     */
    IF_LAST
  }
}
