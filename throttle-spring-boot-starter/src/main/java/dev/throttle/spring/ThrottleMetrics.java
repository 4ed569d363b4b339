package dev.throttle.spring;

import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import dev.throttle.micrometer.HttpMetrics;
import dev.throttle.micrometer.RedisMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The throttle's meters in the application's {@link MeterRegistry} (the one Actuator exposes, at
 * {@code /actuator/prometheus} with the Prometheus registry), from throttle-micrometer: {@link HttpMetrics}
 * ({@code throttle.http.requests{rule, outcome}}, {@code throttle.http.wait{rule}},
 * {@code throttle.http.unrouted.requests}) on every verdict, and {@link RedisMetrics} ({@code throttle.redis.*}) for
 * each rule's Redis store. Nothing when the application has no registry.
 */
final class ThrottleMetrics implements ThrottleAutoConfiguration.Observer {

  private final ObjectProvider<MeterRegistry> registries;
  private MeterRegistry registry; // null: no registry, no meters
  private HttpMetrics http;

  ThrottleMetrics(ObjectProvider<MeterRegistry> registries) {
    this.registries = registries;
  }

  @Override
  public void configure(HttpThrottle.Builder builder) {
    registry = registries.getIfAvailable();
    if (registry != null) {
      http = HttpMetrics.of(registry);
      builder.onVerdict(http);
    }
  }

  @Override
  public void built(HttpThrottle throttle, ThrottleAutoConfiguration.Stores stores) {
    if (registry == null) {
      return;
    }
    for (Rule rule : throttle.rules()) {
      http.register(rule.name());
    }
    if (stores.redis != null) {
      stores.redisStores.forEach((rule, store) -> RedisMetrics.bind(registry, rule, store));
      RedisMetrics.bindConnection(registry, "throttle", stores.redis);
    }
  }
}
