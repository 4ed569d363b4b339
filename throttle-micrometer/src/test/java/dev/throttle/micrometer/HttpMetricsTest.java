package dev.throttle.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.RequestView;
import dev.throttle.http.Rule;
import dev.throttle.http.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The HTTP throttle's verdicts, counted per rule and outcome, with the waits of delayed requests timed. */
class HttpMetricsTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static Verdict admit(HttpThrottle throttle, String path) {
    return throttle.admit(RequestView.of("GET", path, Map.of(), "192.0.2.1", null)).verdict().join();
  }

  private double count(String rule, String outcome) {
    return registry.get("throttle.http.requests").tag("rule", rule).tag("outcome", outcome).counter().count();
  }

  @Test
  void countsEveryRulesVerdictsAndTimesTheDelays() {
    HttpMetrics metrics = HttpMetrics.of(registry).register("api");
    ManualClock clock = new ManualClock();
    try (HttpThrottle throttle = HttpThrottle.builder().clock(clock)
        .stores(rule -> KeyedRateLimiter.<String>builder(rule.limit()).clock(clock).scheduler(clock).build())
        .rule(Rule.builder("api").path("/api").limit("2/min").build())
        .rule(Rule.builder("slow").path("/slow").limit("1/s burst 1").delay(Duration.ofSeconds(5)).build())
        .onVerdict(metrics).build()) {
      assertThat(count("api", "refused")).isZero(); // registered before the first request

      for (int i = 0; i < 3; i++) {
        admit(throttle, "/api/x");
      }
      assertThat(admit(throttle, "/slow").outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
      CompletableFuture<Verdict> delayed =
          throttle.admit(RequestView.of("GET", "/slow", Map.of(), "192.0.2.1", null)).verdict();
      assertThat(delayed).isNotDone(); // its turn is a second away
      clock.advance(Duration.ofSeconds(1));
      clock.runDueTasks();
      assertThat(delayed.join().outcome()).isEqualTo(Verdict.Outcome.DELAYED);
      admit(throttle, "/elsewhere");
    }

    assertThat(count("api", "allowed")).isEqualTo(2);
    assertThat(count("api", "refused")).isEqualTo(1);
    assertThat(count("slow", "allowed")).isEqualTo(1);
    assertThat(count("slow", "delayed")).isEqualTo(1);
    assertThat(metrics.count("api", Verdict.Outcome.REFUSED)).isEqualTo(1);
    var wait = registry.get("throttle.http.wait").tag("rule", "slow").timer();
    assertThat(wait.count()).isEqualTo(1);
    assertThat(wait.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(1000);
    assertThat(registry.get("throttle.http.unrouted.requests").counter().count()).isEqualTo(1);
  }
}
