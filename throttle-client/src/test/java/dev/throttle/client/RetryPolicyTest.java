package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.Props;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  @Test
  void backoffIsFullJitterUnderTheDoublingCeiling() {
    RetryPolicy p = RetryPolicy.defaults();
    Props.forAll("backoff within [0, min(cap, base * 2^(n-1))]", 2000, r -> {
      int n = 1 + r.nextInt(80);
      long ceiling = n > 6 ? 2_000_000_000L : Math.min(2_000_000_000L, 100_000_000L << (n - 1));
      long b = p.backoff(n, r);
      assertThat(b).isBetween(0L, ceiling);
    });
  }

  @Test
  void backoffSpreadsOverItsWholeRange() {
    RetryPolicy p = RetryPolicy.defaults();
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    long max = 0;
    long min = Long.MAX_VALUE;
    for (int i = 0; i < 10_000; i++) {
      long b = p.backoff(3, r); // ceiling 400 ms
      max = Math.max(max, b);
      min = Math.min(min, b);
    }
    assertThat(max).isGreaterThan(390_000_000L);
    assertThat(min).isLessThan(10_000_000L);
  }

  @Test
  void onlyARefusedConnectionRetriesAPostByDefault() {
    RetryPolicy p = RetryPolicy.defaults();
    assertThat(p.retriesError(false, false, "GET")).isTrue();
    assertThat(p.retriesError(true, false, "PUT")).isTrue();
    assertThat(p.retriesError(false, false, "POST")).isFalse();
    assertThat(p.retriesError(true, false, "PATCH")).isFalse();
    assertThat(p.retriesError(false, true, "POST")).isTrue();
    assertThat(p.toBuilder().retryNonIdempotent(true).build().retriesError(true, false, "POST")).isTrue();
    assertThat(p.toBuilder().retryTimeouts(false).build().retriesError(true, false, "GET")).isFalse();
  }

  @Test
  void invalidSettingsNameTheValue() {
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
        .hasMessage("the maximum number of attempts must be at least 1, got 0");
    assertThatThrownBy(() -> RetryPolicy.builder().backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("base PT2S and cap PT1S");
    assertThatThrownBy(() -> RetryPolicy.builder().retryStatuses(Set.of(200)))
        .hasMessage("a retried status must be between 400 and 599, got 200");
    assertThatThrownBy(() -> RetryPolicy.builder().maxServerWait(Duration.ofSeconds(-1)))
        .hasMessageContaining("PT-1S");
  }
}
