package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The shared table of test vectors (spec/bucket-vectors.txt) against the math, the reference model and a limiter. */
class BucketVectorsTest {

  /** The scenarios of plain decisions, which the pure math and the reference model answer alone. */
  static Stream<Vectors.Scenario> decisions() {
    return Vectors.load().stream().filter(Vectors.Scenario::decisionsOnly);
  }

  /** Every scenario an in-process limiter must follow: its cancellation is exact. */
  static Stream<Vectors.Scenario> scenarios() {
    return Vectors.load().stream().filter(s -> s.holdsFor(KeyedRateLimiter.Cancellation.EXACT));
  }

  @Test
  void tableHasScenariosOfEveryKind() {
    List<Vectors.Scenario> all = Vectors.load();
    assertThat(all).hasSizeGreaterThanOrEqualTo(20);
    assertThat(all).anyMatch(s -> s.limit().contains("every"));
    assertThat(all).anyMatch(s -> s.limit().contains(" and "));
    assertThat(all).as("interval buckets created between two boundaries")
        .anyMatch(s -> s.limit().contains("every") && s.unixStart() % 1_000_000_000L != 0);
    assertThat(all.stream().flatMap(s -> s.requests().stream()))
        .anyMatch(r -> r.op() == Vectors.Op.DECIDE && r.expected().isAllowed())
        .anyMatch(r -> r.op() == Vectors.Op.DECIDE && !r.expected().isAllowed());
    for (Vectors.Outcome o : Vectors.Outcome.values()) {
      assertThat(all.stream().flatMap(s -> s.requests().stream())).as("a reservation %s", o)
          .anyMatch(r -> r.outcome() == o);
    }
    for (Vectors.Cancel c : Vectors.Cancel.values()) {
      assertThat(all.stream().flatMap(s -> s.requests().stream())).as("a cancel %s", c)
          .anyMatch(r -> r.cancel() == c);
    }
    assertThat(all).as("scenarios for each cancellation, and for both")
        .anyMatch(s -> s.cancellation() == KeyedRateLimiter.Cancellation.EXACT)
        .anyMatch(s -> s.cancellation() == KeyedRateLimiter.Cancellation.IF_LAST)
        .anyMatch(s -> s.cancellation() == null && !s.decisionsOnly());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("decisions")
  void bucketMathGivesTheExpectedDecisions(Vectors.Scenario scenario) {
    Plan plan = new Plan(Limit.parse(scenario.limit()), scenario.unixStart());
    long[] levels = BucketMath.full(plan);
    for (Vectors.Request r : scenario.requests()) {
      assertThat(BucketMath.decide(plan, levels, r.t(), 0, r.cost()))
          .as("line %d: %d tokens at %d ns", r.line(), r.cost(), r.t())
          .isEqualTo(r.expected());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("decisions")
  void referenceModelGivesTheExpectedDecisions(Vectors.Scenario scenario) {
    ReferenceBucket reference = new ReferenceBucket(Limit.parse(scenario.limit()), scenario.unixStart());
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
    // Its Unix time is the scenario's, which places the interval boundaries.
    ManualClock clock = new ManualClock(Long.MAX_VALUE - 5_000_000_000L, scenario.unixStart());
    RateLimiter limiter = RateLimiter.builder(Limit.parse(scenario.limit())).clock(clock).scheduler(clock).build();
    assertThat(limiter.cancellation()).isEqualTo(KeyedRateLimiter.Cancellation.EXACT);
    Vectors.play(scenario, new Vectors.Driver() {
      long now;

      @Override
      public void advanceTo(long t) {
        clock.advanceNanos(t - now);
        now = t;
      }

      @Override
      public Decision decide(long cost) {
        return limiter.decide(cost);
      }

      @Override
      public Reservation reserve(long cost, long maxWaitNanos) {
        return limiter.reserve(cost, Duration.ofNanos(maxWaitNanos));
      }
    });
  }
}
