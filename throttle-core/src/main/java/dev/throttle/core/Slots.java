package dev.throttle.core;

/**
 * Where the state of a bucket lives, so that one {@link Engine} serves the single limiter (one field) and the
 * per-key limiter (a map entry per key). The state is a {@link Cell} or a {@link LockedBucket}.
 */
interface Slots<K> {

  /**
   * The state for {@code key}, created full if there is none. The clock is read only to create it (and to sweep):
   * it is most of the cost of a call on a held key, and the decision reads it again after the state anyway.
   */
  Object get(K key);

  /** The state for {@code key}, or null if there is none (a full bucket); creates nothing. */
  Object peek(K key);

  /**
   * Puts {@code update} in place of {@code expected} (or removes the entry when {@code update} is null).
   *
   * @return false when {@code expected} was no longer there
   */
  boolean replace(K key, Object expected, Object update);
}
