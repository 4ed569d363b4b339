/** Throttle's Redis store: the core's bucket math as one Lua script, a {@code KeyedRateLimiter} shared by processes. */
module dev.throttle.redis {
  requires transitive dev.throttle.core;
  requires lettuce.core;
  requires io.netty.common;
  requires io.netty.transport;
  requires io.netty.handler;
  requires org.slf4j;

  exports dev.throttle.redis;
}
