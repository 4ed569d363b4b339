package dev.throttle.micrometer;

import dev.throttle.core.LimiterListener;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.RateLimiter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Meters for a limiter or a store, through the core's {@link LimiterListener}:
 *
 * <ul>
 *   <li>{@code throttle.limiter.requests{limiter, outcome}} (counter): outcome {@code allowed} (at once),
 *       {@code waited} (granted after a wait), {@code refused}, {@code cancelled} (a wait given up);
 *   <li>{@code throttle.limiter.tokens{limiter, outcome}} (counter): the same in tokens (costs summed);
 *   <li>{@code throttle.limiter.wait{limiter}} (timer): the waits of the requests that waited.
 * </ul>
 *
 * <pre>{@code
 * RateLimiter limiter = LimiterMetrics.observe(RateLimiter.of(limit), registry, "uploads");
 * }</pre>
 *
 * <p>Meters are registered once, when the listener is made; each event is a counter increment (and a timer
 * record for a wait), no lookup. Thread-safe.
 */
public final class LimiterMetrics implements LimiterListener {

  private final Counter allowed;
  private final Counter waited;
  private final Counter refused;
  private final Counter cancelled;
  private final Counter allowedTokens;
  private final Counter waitedTokens;
  private final Counter refusedTokens;
  private final Counter cancelledTokens;
  private final Timer wait;

  private LimiterMetrics(MeterRegistry registry, String name, Tags tags) {
    Tags t = tags.and("limiter", name);
    allowed = requests(registry, t, "allowed");
    waited = requests(registry, t, "waited");
    refused = requests(registry, t, "refused");
    cancelled = requests(registry, t, "cancelled");
    allowedTokens = tokens(registry, t, "allowed");
    waitedTokens = tokens(registry, t, "waited");
    refusedTokens = tokens(registry, t, "refused");
    cancelledTokens = tokens(registry, t, "cancelled");
    wait = Timer.builder("throttle.limiter.wait").description("Waits of the requests that waited for their tokens")
        .tags(t).register(registry);
  }

  /**
   * A listener counting into {@code registry} under {@code limiter=name} (and {@code tags}).
   *
   * @throws IllegalArgumentException if {@code name} is blank
   */
  public static LimiterMetrics of(MeterRegistry registry, String name, Tags tags) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a limiter's metrics need a name, got '" + name + "'");
    }
    return new LimiterMetrics(registry, name, Objects.requireNonNull(tags, "tags"));
  }

  /** {@code limiter}, counted into {@code registry} under {@code limiter=name}. */
  public static RateLimiter observe(RateLimiter limiter, MeterRegistry registry, String name) {
    return LimiterListener.observing(limiter, of(registry, name, Tags.empty()));
  }

  /** {@code store}, counted into {@code registry} under {@code limiter=name} (every key together). */
  public static <K> KeyedRateLimiter<K> observe(KeyedRateLimiter<K> store, MeterRegistry registry, String name) {
    return LimiterListener.observing(store, of(registry, name, Tags.empty()));
  }

  private static Counter requests(MeterRegistry registry, Tags tags, String outcome) {
    return Counter.builder("throttle.limiter.requests").description("Requests decided, by outcome")
        .tags(tags).tag("outcome", outcome).register(registry);
  }

  private static Counter tokens(MeterRegistry registry, Tags tags, String outcome) {
    return Counter.builder("throttle.limiter.tokens").description("Tokens asked for, by outcome")
        .tags(tags).tag("outcome", outcome).register(registry);
  }

  @Override
  public void onAllowed(long cost) {
    allowed.increment();
    allowedTokens.increment(cost);
  }

  @Override
  public void onRefused(long cost, long waitNanos) {
    refused.increment();
    refusedTokens.increment(cost);
  }

  @Override
  public void onWaited(long cost, long waitNanos) {
    waited.increment();
    waitedTokens.increment(cost);
    wait.record(waitNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void onCancelled(long cost) {
    cancelled.increment();
    cancelledTokens.increment(cost);
  }
}
