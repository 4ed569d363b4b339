package dev.throttle.micrometer;

import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Meters for the Redis store, read from its {@link RedisRateLimiter#stats()} at each scrape (nothing is counted on
 * the decision path):
 *
 * <ul>
 *   <li>{@code <prefix>.redis.decisions{rule, result}} (counter): {@code redis} (answered by Redis), and the
 *       degraded ones by cause: {@code timeout}, {@code error}, {@code circuit_open}, {@code short_circuit}, and
 *       {@code leased} (allowed from a lease, without a round trip);
 *   <li>{@code <prefix>.redis.degraded{rule}} (counter): decisions answered by the failure policy;
 *   <li>{@code <prefix>.redis.late.answers{rule}} (counter): timed-out decisions that Redis answered afterwards;
 *   <li>{@code <prefix>.redis.circuit.open{rule}} (gauge): 1 while the circuit is open;
 *   <li>{@code <prefix>.redis.connected} (gauge, {@link #bindConnection}): 1 while the connection is up.
 * </ul>
 *
 * <p>The prefix is {@code throttle} by default, {@code throttle.gateway} in the gateway.
 */
public final class RedisMetrics {

  private RedisMetrics() {}

  /** Binds {@code limiter}'s meters under {@code throttle.redis.*}, tagged {@code rule}. */
  public static void bind(MeterRegistry registry, String rule, RedisRateLimiter<?> limiter) {
    bind(registry, "throttle", rule, limiter);
  }

  /** Binds {@code limiter}'s meters under {@code prefix.redis.*}, tagged {@code rule}. */
  public static void bind(MeterRegistry registry, String prefix, String rule, RedisRateLimiter<?> limiter) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(limiter, "limiter");
    Tags tags = Tags.of("rule", Objects.requireNonNull(rule, "rule"));
    String decisions = prefix + ".redis.decisions";
    String help = "Decisions per rule answered by Redis, and degraded ones answered by the failure policy (by cause)";
    counter(registry, decisions, help, tags.and("result", "redis"), limiter, s -> s.fromRedis());
    counter(registry, decisions, help, tags.and("result", "timeout"), limiter, s -> s.timeouts());
    counter(registry, decisions, help, tags.and("result", "error"), limiter, s -> s.errors());
    counter(registry, decisions, help, tags.and("result", "circuit_open"), limiter, s -> s.circuitOpen());
    counter(registry, decisions, help, tags.and("result", "short_circuit"), limiter, s -> s.shortCircuited());
    counter(registry, decisions, help, tags.and("result", "leased"), limiter, s -> s.leased());
    counter(registry, prefix + ".redis.degraded",
        "Decisions per rule answered by the failure policy because Redis could not", tags, limiter,
        s -> s.degraded());
    counter(registry, prefix + ".redis.late.answers",
        "Decisions per rule that timed out (answered by the failure policy) and that Redis answered afterwards",
        tags, limiter, s -> s.lateAnswers());
    Gauge.builder(prefix + ".redis.circuit.open", limiter, l -> l.stats().circuitIsOpen() ? 1 : 0)
        .description("1 while the rule's circuit to Redis is open (decisions go to the failure policy at once)")
        .tags(tags).register(registry);
  }

  /** Binds {@code prefix.redis.connected}: 1 while {@code redis}'s connection is up. */
  public static void bindConnection(MeterRegistry registry, String prefix, RedisLimits redis) {
    Objects.requireNonNull(redis, "redis");
    Gauge.builder(prefix + ".redis.connected", redis, r -> r.isConnected() ? 1 : 0)
        .description("1 when the connection to Redis is up").register(registry);
  }

  private static void counter(MeterRegistry registry, String name, String help, Tags tags,
      RedisRateLimiter<?> limiter, ToDoubleFunction<RedisRateLimiter.Stats> read) {
    FunctionCounter.builder(name, limiter, l -> read.applyAsDouble(l.stats())).description(help).tags(tags)
        .register(registry);
  }
}
