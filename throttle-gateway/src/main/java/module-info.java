/** Throttle's gateway: a rate-limiting reverse proxy on Vert.x (config, routes, metrics, health, shutdown). */
module dev.throttle.gateway {
  requires transitive dev.throttle.http;
  requires transitive dev.throttle.redis;
  requires dev.throttle.micrometer;
  requires micrometer.core;
  requires micrometer.registry.prometheus;
  requires io.vertx.core;
  requires io.netty.transport;
  requires io.netty.codec;
  requires io.netty.codec.http;
  requires org.yaml.snakeyaml;
  requires org.slf4j;

  exports dev.throttle.gateway;
}
