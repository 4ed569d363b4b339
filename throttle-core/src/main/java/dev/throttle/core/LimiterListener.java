package dev.throttle.core;

import java.util.Objects;

/**
 * Told what a limiter decided: the hook metrics are built on (throttle-micrometer binds it to counters and a timer;
 * any other sink implements these four methods). Attach it by wrapping a limiter or a store:
 *
 * <pre>{@code
 * RateLimiter limiter = LimiterListener.observing(RateLimiter.of(limit), listener);
 * KeyedRateLimiter<String> store = LimiterListener.observing(keyed, listener);
 * }</pre>
 *
 * <p>A limiter that is not wrapped pays nothing: no call, no allocation. Each request ends in exactly one of
 * {@link #onAllowed} (at once), {@link #onWaited} (granted after a wait, told when the wait is over),
 * {@link #onRefused} (nothing taken) or {@link #onCancelled} (a waiting reservation given up: cancelled,
 * interrupted, timed out). Costs are in tokens, waits in nanoseconds.
 *
 * <p>Called on the thread that decides, or that ends the wait (a scheduler's); an implementation must be
 * thread-safe and quick, and must not throw (an exception propagates to the caller of the limiter, or is lost on a
 * scheduler's thread).
 */
public interface LimiterListener {

  /** {@code cost} tokens taken with no wait. */
  default void onAllowed(long cost) {}

  /** {@code cost} tokens refused; {@code waitNanos} is how long until they would have passed (0 when unknown). */
  default void onRefused(long cost, long waitNanos) {}

  /** {@code cost} tokens granted after waiting; {@code waitNanos} is the wait the reservation was given. */
  default void onWaited(long cost, long waitNanos) {}

  /** A waiting reservation of {@code cost} tokens given up before its time (its tokens returned as the store can). */
  default void onCancelled(long cost) {}

  /** {@code limiter}, telling {@code listener} of every decision. */
  static RateLimiter observing(RateLimiter limiter, LimiterListener listener) {
    return new ObservedRateLimiter(Objects.requireNonNull(limiter, "limiter"),
        Objects.requireNonNull(listener, "listener"));
  }

  /** {@code store}, telling {@code listener} of every decision, for every key. */
  static <K> KeyedRateLimiter<K> observing(KeyedRateLimiter<K> store, LimiterListener listener) {
    return new ObservedStore<>(Objects.requireNonNull(store, "store"), Objects.requireNonNull(listener, "listener"));
  }
}
