package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RateLimiter#changeLimit}: tokens carry over, capped at the new burst; waiters keep their places and are
 * granted under the new limit; after the change, the new limit's window bound holds.
 */
class ChangeLimitTest {

  private final ManualClock clock = new ManualClock(Long.MAX_VALUE - 1_000_000_000L, 20_000 * 86_400_000_000_000L);
  private final Timeline timeline = new Timeline(clock);

  private RateLimiter limiter(String limit) {
    return RateLimiter.builder(Limit.parse(limit)).clock(clock).scheduler(clock).build();
  }

  @Test
  void tokensCarryOverCappedAtTheNewBurst() {
    RateLimiter limiter = limiter("10/s burst 10");
    assertThat(limiter.tryAcquire(7)).isTrue();
    limiter.changeLimit(Limit.parse("100/s burst 5"));
    assertThat(limiter.limit()).hasToString("100/s burst 5");
    assertThat(limiter.available()).as("3 tokens carried").isEqualTo(3);
    clock.advance(Duration.ofMillis(10));
    assertThat(limiter.available()).as("refilled at the new rate").isEqualTo(4);
    limiter.changeLimit(Limit.parse("1/s burst 2"));
    assertThat(limiter.available()).as("capped at the new burst").isEqualTo(2);
    assertThat(limiter.decide(2)).isEqualTo(Decision.allowed(0, 2_000_000_000L));
    // To a limit of two buckets: each holds what the one old bucket held, 1.5 tokens (the minute's bucket too, so
    // it is full again only after 19.5 tokens at one per 3 s).
    clock.advance(Duration.ofMillis(1500));
    limiter.changeLimit(Limit.parse("10/s burst 4 and 20/min"));
    assertThat(limiter.available()).isEqualTo(1);
    assertThat(limiter.decide(1)).isEqualTo(Decision.allowed(0, 58_500_000_000L));
  }

  @Test
  void aFractionOfATokenCarriesOverToo() {
    RateLimiter limiter = limiter("10/s burst 1");
    assertThat(limiter.tryAcquire()).isTrue();
    clock.advance(Duration.ofMillis(50)); // half a token back
    limiter.changeLimit(Limit.parse("20/s burst 1"));
    assertThat(limiter.decide(1)).as("the half token carried, the other half at 20/s: 25 ms")
        .isEqualTo(Decision.refused(0, 25_000_000, 25_000_000));
  }

  @Test
  void waitersKeepTheirPlacesAndAreGrantedAtTheNewRate() {
    RateLimiter limiter = limiter("1/s burst 1");
    assertThat(limiter.tryAcquire()).isTrue();
    Reservation a = reserve(limiter, "A");
    Reservation b = reserve(limiter, "B");
    assertThat(b.delay()).isEqualTo(Duration.ofSeconds(2));
    clock.advance(Duration.ofMillis(500));
    limiter.changeLimit(Limit.parse("10/s burst 1"));
    assertThat(limiter.decide(1).isAllowed()).as("nobody overtakes the waiters").isFalse();
    clock.advance(Duration.ofSeconds(1));
    // Half a token was there at the change; the other half at 10/s takes 50 ms, then 100 ms for B.
    timeline.assertEvents("A ready at 0.550000000", "B ready at 0.650000000");
    assertThat(a.isReady() && b.isReady()).isTrue();
  }

  @Test
  void aCancelledWaiterMovedToTheNewLimitGivesItsPlaceBack() {
    RateLimiter limiter = limiter("1/s burst 1");
    assertThat(limiter.tryAcquire()).isTrue();
    Reservation a = reserve(limiter, "A");
    reserve(limiter, "B");
    limiter.changeLimit(Limit.parse("2/s burst 1"));
    assertThat(a.cancel()).isTrue();
    assertThat(a.refunded().join()).isTrue();
    clock.advance(Duration.ofSeconds(2));
    timeline.assertEvents("B ready at 0.500000000");
  }

  @Test
  void aCutBelowAWaitersCostIsRefusedAndChangesNothing() {
    RateLimiter limiter = limiter("10/s burst 5");
    assertThat(limiter.tryAcquire(5)).isTrue();
    Reservation big = reserve(limiter, "big", 5);
    assertThatThrownBy(() -> limiter.changeLimit(Limit.parse("10/s burst 2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'10/s burst 2'")
        .hasMessageContaining("a reservation of 5 tokens is waiting");
    assertThat(limiter.limit()).hasToString("10/s burst 5");
    clock.advance(Duration.ofMillis(500));
    timeline.assertEvents("big ready at 0.500000000");
    assertThat(big.isReady()).isTrue();
    limiter.changeLimit(Limit.parse("10/s burst 2")); // once it has passed
    assertThat(limiter.available()).isZero();
    assertThatThrownBy(() -> limiter.tryAcquire(3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 2");
  }

  @Test
  void theSameLimitChangesNothing() {
    RateLimiter limiter = limiter("3/s burst 2");
    assertThat(limiter.tryAcquire()).isTrue();
    Decision before = limiter.estimate(2);
    limiter.changeLimit(Limit.parse("3/s burst 2"));
    assertThat(limiter.estimate(2)).isEqualTo(before);
  }

  /**
   * On random limits and requests, changed at a random moment to another random limit: right after the change the
   * limiter holds the tokens the rule says; from the change on, every window obeys the new limit's bound; every
   * granted reservation becomes ready, in the order made.
   */
  @Test
  void theRuleAndTheNewBoundHoldOnRandomChanges() {
    Props.forAll("change limit", 300, r -> {
      Limit before = Props.limit(r, 0.01, 1e7);
      Limit after = Props.limit(r, 0.01, 1e7);
      ManualClock c = new ManualClock(r.nextLong(), 20_000 * 86_400_000_000_000L + r.nextLong(0, 86_400_000_000_000L));
      long origin = c.nanoTime();
      RateLimiter limiter = RateLimiter.builder(before).clock(c).scheduler(c).build();
      List<Reservation> granted = new ArrayList<>();
      List<Reservation> readyOrder = new ArrayList<>();
      List<long[]> grants = new ArrayList<>(); // {time since origin, cost}, from the change on
      long[] changedAt = {-1};
      int steps = 120;
      int changeAt = r.nextInt(steps);
      for (int i = 0; i < steps; i++) {
        c.advanceNanos(Props.step(r, limiter.limit()));
        if (i == changeAt) {
          long available = limiter.available();
          boolean waiters = granted.stream().anyMatch(g -> !g.isReady());
          try {
            limiter.changeLimit(after);
          } catch (IllegalArgumentException tooBig) {
            assertThat(tooBig).hasMessageContaining("is waiting");
            continue;
          }
          changedAt[0] = c.nanoTime() - origin;
          boolean observable = before.bandwidths().size() == 1 || before.bandwidths().size() != after.bandwidths().size();
          if (!waiters && observable) {
            assertThat(limiter.available()).as("%s -> %s", before, after)
                .isEqualTo(Math.min(available, after.burst()));
          }
          continue;
        }
        long cost = Props.cost(r, limiter.limit());
        if (r.nextBoolean()) {
          if (limiter.tryAcquire(cost) && changedAt[0] >= 0) {
            grants.add(new long[] {c.nanoTime() - origin, cost});
          }
        } else {
          Reservation res = limiter.reserve(cost, Props.nanos(Props.step(r, limiter.limit()) * 4));
          if (res.isGranted()) {
            granted.add(res);
            res.whenReady().thenRun(() -> {
              readyOrder.add(res);
              long t = c.nanoTime() - origin;
              if (changedAt[0] >= 0 && t >= changedAt[0]) {
                grants.add(new long[] {t, cost});
              }
            });
          }
        }
      }
      c.advanceNanos(Long.MAX_VALUE / 16);
      assertThat(readyOrder).as("every granted reservation ready, first come first served")
          .containsExactlyElementsOf(granted);
      if (limiter.limit().equals(after)) {
        for (Bandwidth b : after.bandwidths()) {
          assertBound(b, grants, c.unixNanosAt(origin));
        }
      }
    });
  }

  /** In every window of grants (times since the clock's origin, at Unix time {@code unixOrigin}), the bound. */
  private static void assertBound(Bandwidth b, List<long[]> grants, long unixOrigin) {
    grants.sort((x, y) -> Long.compare(x[0], y[0]));
    long interval = b.refillIntervalNanos();
    long phase = b.isIntervalRefill() ? Math.floorMod(unixOrigin, interval) : 0;
    for (int i = 0; i < grants.size(); i++) {
      long sum = 0;
      for (int j = i; j < grants.size(); j++) {
        sum += grants.get(j)[1];
        long t1 = grants.get(i)[0];
        long t2 = grants.get(j)[0];
        long bound = b.isIntervalRefill()
            ? b.burst() + b.tokensPerInterval() * ((t2 + phase) / interval - (t1 + phase) / interval)
            : b.burst() + BigInteger.valueOf(b.amount()).multiply(BigInteger.valueOf(t2 - t1))
                .divide(BigInteger.valueOf(b.periodNanos())).min(BigInteger.valueOf(Long.MAX_VALUE / 2))
                .longValueExact();
        if (sum > bound) {
          throw new AssertionError(b + ": " + sum + " tokens in [" + t1 + ", " + t2 + "] ns after the change, bound "
              + bound);
        }
      }
    }
  }

  private Reservation reserve(RateLimiter limiter, String name) {
    return reserve(limiter, name, 1);
  }

  private Reservation reserve(RateLimiter limiter, String name, long cost) {
    Reservation r = limiter.reserve(cost, Duration.ofSeconds(10));
    assertThat(r.isGranted()).isTrue();
    r.whenReady().thenRun(() -> timeline.record(name + " ready"));
    return r;
  }
}
