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
   * granted (nothing taken). Cancelling a reservation that is still waiting returns its tokens.
   *
   * @throws IllegalArgumentException (at once) if {@code cost} is below 1 or above the burst, or {@code maxWait}
   *     is negative
   */
  CompletableFuture<Reservation> reserve(K key, long cost, Duration maxWait);
}
