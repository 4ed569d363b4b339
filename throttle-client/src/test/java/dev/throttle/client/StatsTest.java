package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class StatsTest {

  private static Outcome<Void> outcome(Outcome.Status status, int attempts, long sentMs, long lastSentMs, long endMs) {
    return new Outcome<>(status, null, attempts, status == Outcome.Status.SUCCEEDED ? null : "x", true,
        sentMs * 1_000_000, lastSentMs * 1_000_000, endMs * 1_000_000);
  }

  @Test
  void theSeedsSummaryLine() {
    Stats.Recorder r = new Stats.Recorder();
    // 60 requests, one every 250 ms from t = 0, each answered after 1 s: the last at 15.75 s
    for (int i = 0; i < 60; i++) {
      r.record(outcome(Outcome.Status.SUCCEEDED, 1, 250L * i, 250L * i, 250L * i + 1000));
    }
    Stats s = r.snapshot();
    assertThat(s.elapsed()).isEqualTo(Duration.ofMillis(15_750));
    assertThat(s.summaryLine()).isEqualTo(
        "[60] requests processed in [15.75] seconds with average time [1000.0] ms, total throughput: [3.81] rps");
  }

  @Test
  void throughputCountsOnlySucceededJobsAndElapsedRunsFromFirstSendToLastEnd() {
    Stats.Recorder r = new Stats.Recorder();
    r.record(outcome(Outcome.Status.SUCCEEDED, 1, 1000, 1000, 2000));
    r.record(outcome(Outcome.Status.FAILED, 3, 500, 2500, 3000)); // sent first, ended last
    r.record(new Outcome<>(Outcome.Status.CANCELLED, null, 0, "cancelled", false, 0, 0, 0));
    Stats s = r.snapshot();
    assertThat(s.elapsed()).isEqualTo(Duration.ofMillis(2500));
    assertThat(s.throughput()).isEqualTo(1 / 2.5);
    assertThat(s.attempts()).isEqualTo(4);
    assertThat(s.byStatusCode()).containsEntry(0, 3L);
    assertThat(s.summaryLine()).endsWith("(1 succeeded, 1 failed, 1 cancelled)");
    assertThat(s.meanLatency()).isEqualTo(Duration.ofMillis(750)); // exact: 1000 and 500 ms, the cancelled not sent
    // the histogram keeps 3 significant digits
    assertThat(s.latencyPercentile(100).toNanos()).isCloseTo(1_000_000_000L, org.assertj.core.data.Percentage.withPercentage(0.1));
    assertThat(s.maxLatency().toNanos()).isCloseTo(1_000_000_000L, org.assertj.core.data.Percentage.withPercentage(0.1));
  }

  @Test
  void numbersPrintLikePythonsRound() {
    assertThat(Stats.decimal(4.0, 2)).isEqualTo("4.0");
    assertThat(Stats.decimal(3.75, 2)).isEqualTo("3.75");
    assertThat(Stats.decimal(1003.04, 1)).isEqualTo("1003.0");
    assertThat(Stats.decimal(15.1, 2)).isEqualTo("15.1");
  }

  @Test
  void emptyStatsAreZeros() {
    Stats s = new Stats.Recorder().snapshot();
    assertThat(s.throughput()).isZero();
    assertThat(s.latencyPercentile(99)).isZero();
    assertThat(s.summaryLine()).startsWith("[0] requests processed in [0.0] seconds");
  }
}
