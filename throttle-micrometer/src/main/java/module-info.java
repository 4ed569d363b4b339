/**
 * Throttle's Micrometer binders: limiters and stores (through the core's {@code LimiterListener}), the HTTP
 * throttle's verdicts, the Redis store, the client's attempts. The modules whose binders are used must be present;
 * the others are optional.
 */
module dev.throttle.micrometer {
  requires transitive dev.throttle.core;
  requires transitive micrometer.core;
  requires static dev.throttle.http;
  requires static dev.throttle.redis;
  requires static dev.throttle.client;

  exports dev.throttle.micrometer;
}
