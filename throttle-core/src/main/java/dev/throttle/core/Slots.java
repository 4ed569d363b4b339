package dev.throttle.core;

/**
 * Where the state of a bucket lives, so that one {@link Engine} serves the single limiter (one field) and the
 * per-key limiter (a map entry per key). The state is a {@link Cell} or a {@link LockedBucket}.
 */
interface Slots<K> {

  /** The state for {@code key}, created full at time {@code t} if there is none. */
  Object get(K key, long t);

  /** The state for {@code key}, or null if there is none (nothing is created: no clock reading needed). */
  Object find(K key);

  /**
   * Puts {@code update} in place of {@code expected} (or removes the entry when {@code update} is null).
   *
   * @return false when {@code expected} was no longer there
   */
  boolean replace(K key, Object expected, Object update);
}
