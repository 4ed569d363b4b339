package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The demo end to end, on a faster configuration than its default (shorter latency, higher rate). Its figures at
 * the defaults are measured, not asserted: see docs/BENCHMARKS.md.
 */
class DemoTest {

  @Test
  void everyJobSucceedsNoneIsLostAndTheRateIsKept() throws Exception {
    Demo demo = Demo.of(150, 50, 32, Duration.ofMillis(100), 0.1);
    Demo.Report report = demo.run(new BatchListener<Void>() {});
    Stats s = report.stats();
    assertThat(report.lost()).isZero();
    assertThat(s.succeeded()).isEqualTo(150);
    // not faster than the API allows: after the burst of 50, 100 more at 50/s take at least 2 s
    assertThat(s.elapsed()).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(report.utilization()).isLessThanOrEqualTo(150.0 / 2.0 / 50);
    assertThat(s.latencyPercentile(50)).isBetween(Duration.ofMillis(85), Duration.ofSeconds(1));
  }

  @Test
  void invalidSettingsNameTheFlag() {
    assertThatThrownBy(() -> Demo.of(0, 4, 16, Duration.ofSeconds(1), 0.1))
        .hasMessage("--requests must be at least 1, got 0");
    assertThatThrownBy(() -> Demo.of(10, 0, 16, Duration.ofSeconds(1), 0.1))
        .hasMessage("--allotted must be at least 1 request per second, got 0");
    assertThatThrownBy(() -> Demo.of(10, 4, 0, Duration.ofSeconds(1), 0.1))
        .hasMessage("--concurrency must be at least 1, got 0");
    assertThatThrownBy(() -> Demo.of(10, 4, 1, Duration.ofMinutes(2), 0.1))
        .hasMessage("--latency must be between 0 and 1 min, got 120000 ms");
  }
}
