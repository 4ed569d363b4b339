package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The shared table of test vectors (spec/bucket-vectors.txt) against the math, the reference model and a limiter. */
class BucketVectorsTest {

  static Stream<Vectors.Scenario> scenarios() {
    return Vectors.load().stream();
  }

  @Test
  void tableHasScenariosOfEveryKind() {
    List<Vectors.Scenario> all = Vectors.load();
    assertThat(all).hasSizeGreaterThanOrEqualTo(20);
    assertThat(all).anyMatch(s -> s.limit().contains("every"));
    assertThat(all).anyMatch(s -> s.limit().contains(" and "));
    assertThat(all.stream().flatMap(s -> s.requests().stream()))
        .anyMatch(r -> r.expected().isAllowed())
        .anyMatch(r -> !r.expected().isAllowed());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void bucketMathGivesTheExpectedDecisions(Vectors.Scenario scenario) {
    Plan plan = new Plan(Limit.parse(scenario.limit()));
    long[] levels = BucketMath.full(plan);
    for (Vectors.Request r : scenario.requests()) {
      assertThat(BucketMath.decide(plan, levels, r.t(), 0, r.cost()))
          .as("line %d: %d tokens at %d ns", r.line(), r.cost(), r.t())
          .isEqualTo(r.expected());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void referenceModelGivesTheExpectedDecisions(Vectors.Scenario scenario) {
    ReferenceBucket reference = new ReferenceBucket(Limit.parse(scenario.limit()));
    for (Vectors.Request r : scenario.requests()) {
      assertThat(reference.decide(r.t(), r.cost()))
          .as("line %d: %d tokens at %d ns", r.line(), r.cost(), r.t())
          .isEqualTo(r.expected());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void limiterOnAManualClockGivesTheExpectedDecisions(Vectors.Scenario scenario) {
    // Starting the clock near the end of the long range checks that nothing depends on absolute clock values.
    ManualClock clock = new ManualClock(Long.MAX_VALUE - 5_000_000_000L);
    RateLimiter limiter = RateLimiter.builder(Limit.parse(scenario.limit())).clock(clock).scheduler(clock).build();
    long now = 0;
    for (Vectors.Request r : scenario.requests()) {
      clock.advanceNanos(r.t() - now);
      now = r.t();
      assertThat(limiter.decide(r.cost()))
          .as("line %d: %d tokens at %d ns", r.line(), r.cost(), r.t())
          .isEqualTo(r.expected());
    }
  }
}
