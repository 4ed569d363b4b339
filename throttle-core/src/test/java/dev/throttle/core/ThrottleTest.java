package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Rate and concurrency together: a permit first, then the rate slot; nothing kept when a wait is given up. */
class ThrottleTest {

  private final ManualClock clock = new ManualClock();
  private final Timeline timeline = new Timeline(clock);

  private Throttle throttle(String limit, int inFlight) {
    return Throttle.of(RateLimiter.builder(Limit.parse(limit)).clock(clock).scheduler(clock).build(),
        ConcurrencyLimiter.of(inFlight));
  }

  @Test
  void startsObeyTheRateAndTheNumberInFlight() {
    Throttle throttle = throttle("10/s burst 1", 2);
    CompletableFuture<ConcurrencyLimiter.Permit> a = throttle.acquireAsync(1);
    CompletableFuture<ConcurrencyLimiter.Permit> b = throttle.acquireAsync(1);
    CompletableFuture<ConcurrencyLimiter.Permit> c = throttle.acquireAsync(1);
    a.thenRun(() -> timeline.record("a"));
    b.thenRun(() -> timeline.record("b"));
    c.thenRun(() -> timeline.record("c"));
    clock.advance(Duration.ofMillis(500));
    timeline.assertEvents("a at 0.000000000", "b at 0.100000000"); // c waits for a permit
    a.join().close();
    // c takes the permit at 0.5 s and its rate slot at once: the bucket has refilled meanwhile.
    timeline.assertEvents("c at 0.500000000");
    assertThat(throttle.concurrency().inFlight()).isEqualTo(2);
  }

  @Test
  void cancellingWhileWaitingForTheRateReleasesThePermitAndReturnsTheTokens() {
    Throttle throttle = throttle("10/s burst 1", 5);
    assertThat(throttle.tryAcquire(1)).isPresent();
    CompletableFuture<ConcurrencyLimiter.Permit> waiting = throttle.acquireAsync(1);
    assertThat(throttle.concurrency().inFlight()).isEqualTo(2);
    assertThat(waiting.cancel(true)).isTrue();
    assertThat(throttle.concurrency().inFlight()).isEqualTo(1);
    clock.advance(Duration.ofMillis(100));
    assertThat(throttle.rate().tryAcquire()).isTrue(); // the token the cancelled wait would have taken
  }

  @Test
  void cancellingWhileWaitingForAPermitGivesUpThePlace() {
    Throttle throttle = throttle("1000/s", 1);
    ConcurrencyLimiter.Permit held = throttle.tryAcquire(1).orElseThrow();
    CompletableFuture<ConcurrencyLimiter.Permit> waiting = throttle.acquireAsync(1);
    assertThat(waiting.cancel(true)).isTrue();
    held.close();
    assertThat(throttle.concurrency().inFlight()).isZero();
    assertThat(throttle.concurrency().waiting()).isZero();
  }

  @Test
  void tryAcquireKeepsNoPermitWhenTheRateRefuses() {
    Throttle throttle = throttle("10/s burst 1", 5);
    assertThat(throttle.tryAcquire(1)).isPresent();
    assertThat(throttle.tryAcquire(1)).isEmpty();
    assertThat(throttle.concurrency().inFlight()).isEqualTo(1);
  }
}
