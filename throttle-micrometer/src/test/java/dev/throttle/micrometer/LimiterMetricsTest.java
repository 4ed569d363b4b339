package dev.throttle.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Reservation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LimiterMetricsTest {

  private final ManualClock clock = new ManualClock();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double requests(String outcome) {
    return registry.get("throttle.limiter.requests").tag("limiter", "uploads").tag("outcome", outcome).counter()
        .count();
  }

  @Test
  void countsEachOutcomeAndTimesTheWaits() {
    RateLimiter limiter = LimiterMetrics.observe(
        RateLimiter.builder(Limit.parse("2/s burst 2")).clock(clock).scheduler(clock).build(), registry, "uploads");

    limiter.tryAcquire(2);
    limiter.tryAcquire();
    Reservation waits = limiter.reserve(1);
    limiter.reserve(1).cancel();
    clock.advance(Duration.ofMillis(500));
    clock.runDueTasks();

    assertThat(waits.isReady()).isTrue();
    assertThat(requests("allowed")).isEqualTo(1);
    assertThat(requests("refused")).isEqualTo(1);
    assertThat(requests("waited")).isEqualTo(1);
    assertThat(requests("cancelled")).isEqualTo(1);
    assertThat(registry.get("throttle.limiter.tokens").tag("outcome", "allowed").counter().count()).isEqualTo(2);
    var wait = registry.get("throttle.limiter.wait").tag("limiter", "uploads").timer();
    assertThat(wait.count()).isEqualTo(1);
    assertThat(wait.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(500);
  }
}
