package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Timeline;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class JitterMarginTest {

  @Test
  void lowersTheBurstByTheRequestsTheMarginRefills() {
    JitterMargin m = JitterMargin.of(Limit.parse("4/s"), Duration.ofMillis(20));
    assertThat(m.limit()).isEqualTo(Limit.parse("4000/s burst 3920"));
    assertThat(m.cost()).isEqualTo(1000);
  }

  @Test
  void theFirstOfABurstGoAtOnceAndTheRestOneMarginLater() {
    ManualClock clock = new ManualClock();
    JitterMargin m = JitterMargin.of(Limit.parse("4/s"), Duration.ofMillis(20));
    RateLimiter limiter = RateLimiter.builder(m.limit()).clock(clock).scheduler(clock).build();
    Timeline timeline = new Timeline(clock);
    for (int i = 1; i <= 6; i++) {
      String name = "R" + i;
      limiter.acquireAsync(m.cost()).thenRun(() -> timeline.record(name));
    }
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("R1 at 0.000000000", "R2 at 0.000000000", "R3 at 0.000000000", "R4 at 0.020000000",
        "R5 at 0.270000000", "R6 at 0.520000000");
  }

  @Test
  void neverMoreThanTheLimitInAnyWindow() {
    dev.throttle.core.Props.forAll("margin limit within the configured bound", 200, r -> {
      long amount = 1 + r.nextInt(200);
      long burst = 1 + r.nextInt((int) amount * 2);
      Limit configured = Limit.builder().rate(amount, Duration.ofSeconds(1)).burst(burst).build();
      JitterMargin m = JitterMargin.of(configured, Duration.ofMillis(r.nextInt(100)));
      ManualClock clock = new ManualClock();
      RateLimiter limiter = RateLimiter.builder(m.limit()).clock(clock).scheduler(clock).build();
      long granted = 0;
      long t = 0;
      long horizon = 3_000_000_000L;
      while (t < horizon) {
        if (limiter.tryAcquire(m.cost())) {
          granted++;
        } else {
          long step = 1 + r.nextLong(20_000_000L);
          clock.advanceNanos(step);
          t += step;
        }
      }
      // window [0, t]: at most burst + floor(amount * t / 1 s)
      assertThat(granted).isLessThanOrEqualTo(burst + amount * t / 1_000_000_000L);
    });
  }

  @Test
  void leavesABurstOfOneIntervalRefillAndHugeRatesAsTheyAre() {
    assertThat(JitterMargin.of(Limit.parse("1/s"), Duration.ofMillis(20)).limit())
        .isEqualTo(Limit.parse("1000/s burst 1000"));
    assertThat(JitterMargin.of(Limit.parse("4/s every 250ms"), Duration.ofMillis(20)).limit())
        .isEqualTo(Limit.parse("4000/s every 250ms"));
    JitterMargin fast = JitterMargin.of(Limit.parse("100000000/s"), Duration.ofMillis(20));
    assertThat(fast.limit()).isEqualTo(Limit.parse("100000000/s"));
    assertThat(fast.cost()).isEqualTo(1);
    assertThat(JitterMargin.of(Limit.parse("4/s"), Duration.ZERO).limit()).isEqualTo(Limit.parse("4000/s"));
  }
}
