/**
 * Throttle's core: limits, the bucket math, the in-process limiters (one key, per key, concurrency) and the clock.
 * No dependency. {@code dev.throttle.core.internal} is shared with Throttle's own stores only.
 */
module dev.throttle.core {
  exports dev.throttle.core;
  exports dev.throttle.core.internal to dev.throttle.redis;
}
