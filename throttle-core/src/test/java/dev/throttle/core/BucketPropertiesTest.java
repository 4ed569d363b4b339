package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Invariants of the limiter, over generated limits and request sequences (see {@link Props}). */
class BucketPropertiesTest {

  static long unixNow(ManualClock clock) {
    return clock.unixNanosAt(clock.nanoTime());
  }

  private static long randomStart(SplittableRandom r) {
    return switch (r.nextInt(4)) {
      case 0 -> 0;
      case 1 -> Long.MAX_VALUE - r.nextLong(1, 1_000_000_000_000L); // the clock wraps during the case
      case 2 -> Long.MIN_VALUE + r.nextLong(0, 1_000_000_000L);
      default -> r.nextLong();
    };
  }

  private static RateLimiter limiter(Limit limit, ManualClock clock) {
    return RateLimiter.builder(limit).clock(clock).scheduler(clock).build();
  }

  @Test
  void decisionsAgreeWithTheExactFractionModel() {
    Props.forAll("reference", 300, r -> {
      Limit limit = Props.limit(r, 0.001, 1e9);
      ManualClock clock = new ManualClock(randomStart(r));
      RateLimiter limiter = limiter(limit, clock);
      ReferenceBucket reference = new ReferenceBucket(limit, unixNow(clock)); // interval boundaries on Unix time
      long t = 0;
      for (int i = 0; i < 150; i++) {
        long step = Props.step(r, limit);
        clock.advanceNanos(step);
        t += step;
        long cost = Props.cost(r, limit);
        assertThat(limiter.decide(cost)).as("%s: request %d of %d tokens at %d ns", limit, i, cost, t)
            .isEqualTo(reference.decide(t, cost));
      }
    });
  }

  @Test
  void tryAcquireAgreesWithTheExactFractionModel() {
    // tryAcquire has a lock-free path of its own (Engine.tryTake) for one-bucket limits: check it grant by grant,
    // for greedy and interval refill, and across epochs (the 999999937/s limit moves to a new epoch every second).
    Props.forAll("tryAcquire reference", 300, r -> {
      Limit limit = r.nextInt(8) == 0 ? Limit.parse("999999937/s burst 1000") : Props.limit(r, 0.001, 1e9);
      ManualClock clock = new ManualClock(randomStart(r));
      RateLimiter limiter = limiter(limit, clock);
      ReferenceBucket reference = new ReferenceBucket(limit, unixNow(clock)); // interval boundaries on Unix time
      long t = 0;
      for (int i = 0; i < 150; i++) {
        long step = r.nextInt(8) == 0 ? r.nextLong(1, 3_000_000_000L) : Props.step(r, limit);
        clock.advanceNanos(step);
        t += step;
        long cost = Props.cost(r, limit);
        assertThat(limiter.tryAcquire(cost)).as("%s: request %d of %d tokens at %d ns", limit, i, cost, t)
            .isEqualTo(reference.decide(t, cost).isAllowed());
      }
    });
  }

  @Test
  void decisionsStayExactAcrossEpochsForRatesWithAwkwardFractions() {
    // 999999937/s is a prime amount per second: each token costs 10^9/999999937 ns, the hardest case for integers.
    // Its bucket state moves to a new epoch about every second; days pass in this test.
    for (String text : new String[] {"999999937/s burst 1000", "999999937/s", "7/s burst 3", "86399999/day burst 5"}) {
      Props.forAll("epochs " + text, 20, r -> {
        Limit limit = Limit.parse(text);
        ManualClock clock = new ManualClock(randomStart(r));
        RateLimiter limiter = limiter(limit, clock);
        ReferenceBucket reference = new ReferenceBucket(limit, unixNow(clock));
        long t = 0;
        for (int i = 0; i < 300; i++) {
          long step = switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextLong(1, 3_000);
            case 2 -> r.nextLong(1, 3_000_000_000L);
            default -> r.nextLong(1, 3 * 86_400_000_000_000L);
          };
          clock.advanceNanos(step);
          t += step;
          long cost = 1 + r.nextLong(limit.burst());
          assertThat(limiter.decide(cost)).as("%s: request %d at %d ns", text, i, t)
              .isEqualTo(reference.decide(t, cost));
        }
      });
    }
  }

  /**
   * {@code estimate(cost)} answers what {@code decide(cost)} then answers, {@code available()} the tokens before it,
   * and neither takes anything: a limiter asked them at every step decides exactly like a twin never asked, with
   * waiters (reservations) mixed in.
   */
  @Test
  void estimateAndAvailableForetellDecideAndTakeNothing() {
    Props.forAll("estimate", 300, r -> {
      Limit limit = Props.limit(r, 0.001, 1e9);
      ManualClock clock = new ManualClock(randomStart(r));
      RateLimiter asked = limiter(limit, clock);
      RateLimiter twin = limiter(limit, clock);
      for (int i = 0; i < 150; i++) {
        clock.advanceNanos(Props.step(r, limit));
        long cost = Props.cost(r, limit);
        long available = asked.available();
        Decision estimate = asked.estimate(cost);
        assertThat(asked.available()).isEqualTo(available);
        if (r.nextInt(4) == 0) {
          Duration maxWait = Props.nanos(Props.step(r, limit) * 3);
          assertThat(asked.reserve(cost, maxWait).decision()).as("%s: reserve %d", limit, cost)
              .isEqualTo(twin.reserve(cost, maxWait).decision());
          continue;
        }
        Decision decision = asked.decide(cost);
        assertThat(decision).as("%s: %d tokens, step %d", limit, cost, i).isEqualTo(twin.decide(cost));
        assertThat(estimate).as("%s: estimate of %d tokens", limit, cost).isEqualTo(decision);
        assertThat(available).as("%s: available before %s", limit, decision)
            .isEqualTo(decision.isAllowed() ? decision.remaining() + cost : decision.remaining());
      }
    });
  }

  /** A grant: when, and how many tokens. */
  private record Grant(long t, long cost) {}

  @Test
  void grantsInAnyWindowNeverExceedBurstPlusRateTimesLength() {
    Props.forAll("window bound", 200, r -> {
      Limit limit = Props.limit(r, 0.01, 1e7);
      ManualClock clock = new ManualClock(randomStart(r));
      long start = clock.nanoTime();
      RateLimiter limiter = limiter(limit, clock);
      List<Grant> grants = new ArrayList<>();
      List<Reservation> waiting = new ArrayList<>();
      for (int i = 0; i < 250; i++) {
        clock.advanceNanos(Props.step(r, limit));
        long cost = Props.cost(r, limit);
        switch (r.nextInt(5)) {
          case 0, 1 -> {
            if (limiter.tryAcquire(cost)) {
              grants.add(new Grant(clock.nanoTime() - start, cost));
            }
          }
          case 2, 3 -> {
            long maxWait = r.nextInt(3) == 0 ? Long.MAX_VALUE / 8 : Props.step(r, limit) * 4;
            Reservation reservation = limiter.reserve(cost, Props.nanos(maxWait));
            if (reservation.isGranted()) {
              waiting.add(reservation);
              reservation.whenReady().thenRun(() -> grants.add(new Grant(clock.nanoTime() - start, cost)));
            }
          }
          default -> {
            if (!waiting.isEmpty()) {
              waiting.remove(r.nextInt(waiting.size())).cancel();
            }
          }
        }
      }
      clock.advanceNanos(Long.MAX_VALUE / 16); // let every remaining waiter through
      for (Bandwidth b : limit.bandwidths()) {
        assertWindowBound(limit, b, grants, clock.unixNanosAt(start));
      }
    });
  }

  /** The bound, with interval boundaries at multiples of the interval in Unix time ({@code unixStart} at t = 0). */
  private static void assertWindowBound(Limit limit, Bandwidth b, List<Grant> grants, long unixStart) {
    long interval = b.refillIntervalNanos();
    long phase = b.isIntervalRefill() ? Math.floorMod(unixStart, interval) : 0;
    int n = grants.size();
    long[] prefix = new long[n + 1];
    for (int i = 0; i < n; i++) {
      assertThat(i == 0 || grants.get(i).t() >= grants.get(i - 1).t()).as("grants in time order").isTrue();
      prefix[i + 1] = prefix[i] + grants.get(i).cost();
    }
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        long t1 = grants.get(i).t();
        long t2 = grants.get(j).t();
        long granted = prefix[j + 1] - prefix[i];
        long bound = b.isIntervalRefill()
            ? b.burst() + b.tokensPerInterval() * ((t2 + phase) / interval - (t1 + phase) / interval)
            : b.burst() + java.math.BigInteger.valueOf(b.amount()).multiply(java.math.BigInteger.valueOf(t2 - t1))
                .divide(java.math.BigInteger.valueOf(b.periodNanos())).min(java.math.BigInteger.valueOf(Long.MAX_VALUE / 2))
                .longValueExact();
        if (granted > bound) {
          throw new AssertionError(limit + ": bucket " + b + " granted " + granted + " tokens in [" + t1 + ", " + t2
              + "] ns, more than its bound " + bound);
        }
      }
    }
  }

  /**
   * Any split of the same total cost finishes at the same time, to the nanosecond, and the tokens beyond the burst
   * arrive at exactly the rate. (Parts below the burst: a part of the whole burst waits for a completely full
   * bucket, is granted at the first whole nanosecond after that, and the bucket, being full, gains nothing in that
   * fraction of a nanosecond; such splits finish up to 1 ns later per part, checked below.) This holds for greedy
   * refill; with interval refill a chunk that would overfill the bucket is cut at the burst, so how much is lost
   * depends on what was left, and therefore on the split.
   */
  @Test
  void anySplitOfTheSameTotalCostFinishesAtTheSameTime() {
    Props.forAll("weight splits", 300, r -> {
      Limit limit = Limit.of(Props.greedyBandwidth(r, 0.01, 1e6));
      long burst = limit.burst();
      long total = burst + 1 + r.nextLong(4 * burst);
      long largestPart = burst == 1 ? 1 : burst - 1;
      long first = finishTime(limit, split(r, total, largestPart), randomStart(r));
      long second = finishTime(limit, split(r, total, largestPart), randomStart(r));
      assertThat(second).as("%s, %d tokens in all", limit, total).isEqualTo(first);
      Bandwidth b = limit.bandwidths().get(0);
      if (burst > 1) {
        long expected = ceilTimeFor(b, total - burst);
        assertThat(first).as("%s, %d tokens", limit, total).isEqualTo(expected);
        List<Long> withWholeBursts = split(r, total, burst);
        long wholeBursts = withWholeBursts.stream().filter(p -> p == burst).count();
        assertThat(finishTime(limit, withWholeBursts, randomStart(r))).as("%s, parts %s", limit, withWholeBursts)
            .isBetween(expected, expected + wholeBursts);
      }
    });
  }

  /** ceil(tokens * period / amount): the time a greedy bucket takes to produce {@code tokens}. */
  private static long ceilTimeFor(Bandwidth b, long tokens) {
    return java.math.BigInteger.valueOf(tokens).multiply(java.math.BigInteger.valueOf(b.periodNanos()))
        .add(java.math.BigInteger.valueOf(b.amount() - 1)).divide(java.math.BigInteger.valueOf(b.amount()))
        .longValueExact();
  }

  private static List<Long> split(SplittableRandom r, long total, long max) {
    List<Long> parts = new ArrayList<>();
    while (total > 0) {
      long part = Math.min(total, 1 + r.nextLong(max));
      parts.add(part);
      total -= part;
    }
    return parts;
  }

  /** Acquires the parts in order at t=0 and returns when the last is granted (ns after the start). */
  private static long finishTime(Limit limit, List<Long> parts, long start) {
    ManualClock clock = new ManualClock(start);
    RateLimiter limiter = limiter(limit, clock);
    long[] last = {-1};
    for (long part : parts) {
      limiter.acquireAsync(part).thenRun(() -> last[0] = clock.nanoTime() - start);
    }
    clock.advanceNanos(Long.MAX_VALUE / 16);
    assertThat(last[0]).isNotNegative();
    return last[0];
  }

  /**
   * A reservation cancelled while it waits leaves the limiter exactly as if it had never been made: every later
   * decision, wait and grant time is the same as on a twin limiter that never saw it.
   */
  @Test
  void cancellingAWaitingReservationReturnsExactlyItsTokens() {
    int[] applicable = {0};
    Props.forAll("cancel returns tokens", 300, r -> cancelCase(r, applicable));
    assertThat(applicable[0]).as("cases where the extra reservation had to wait").isGreaterThan(100);
  }

  static void cancelCase(SplittableRandom r, int[] applicable) {
    {
      Limit limit = Props.limit(r, 0.01, 1e6);
      long start = randomStart(r);
      ManualClock clockA = new ManualClock(start);
      ManualClock clockB = new ManualClock(start);
      RateLimiter a = limiter(limit, clockA);
      RateLimiter b = limiter(limit, clockB);
      long seed = r.nextLong();
      List<String> historyA = run(a, clockA, limit, new SplittableRandom(seed), 30);
      List<String> historyB = run(b, clockB, limit, new SplittableRandom(seed), 30);
      assertThat(historyA).isEqualTo(historyB);

      long cost = Props.cost(r, limit);
      Reservation extra = a.reserve(cost);
      if (extra.isReady()) {
        return; // nothing to cancel: it took its tokens at once
      }
      applicable[0]++;
      long before = r.nextLong(0, Math.max(1, extra.delayNanos()));
      clockA.advanceNanos(before);
      clockB.advanceNanos(before);
      int how = r.nextInt(3);
      boolean cancelled = switch (how) {
        case 0 -> extra.cancel();
        case 1 -> extra.whenReady().cancel(true);
        default -> extra.whenReady().completeExceptionally(new TimeoutException("as orTimeout does"));
      };
      assertThat(cancelled).as("%s: cancel after %d of %d ns (%s); A: %s", limit, before, extra.delayNanos(), extra, a).isTrue();
      assertThat(extra.isReady()).isFalse();
      assertThat(extra.whenReady()).isCompletedExceptionally();

      long seed2 = r.nextLong();
      assertThat(run(a, clockA, limit, new SplittableRandom(seed2), 60))
          .isEqualTo(run(b, clockB, limit, new SplittableRandom(seed2), 60));
    }
  }

  /** Random operations on a limiter; returns what was observed, with the times things happened. */
  private static List<String> run(RateLimiter limiter, ManualClock clock, Limit limit, SplittableRandom r, int ops) {
    List<String> seen = new ArrayList<>();
    long origin = clock.nanoTime();
    for (int i = 0; i < ops; i++) {
      clock.advanceNanos(Props.step(r, limit));
      long cost = Props.cost(r, limit);
      switch (r.nextInt(3)) {
        case 0 -> seen.add("try " + cost + " " + limiter.tryAcquire(cost));
        case 1 -> seen.add("decide " + cost + " " + limiter.decide(cost));
        default -> {
          CompletableFuture<Void> f = limiter.acquireAsync(cost);
          int id = i;
          f.thenRun(() -> seen.add("ready " + id + " at " + (clock.nanoTime() - origin)));
        }
      }
    }
    return seen;
  }

  @Test
  void limitTextRoundTrips() {
    Props.forAll("round trip", 2000, r -> {
      Limit limit = Props.limit(r, 1.0 / 86_400, 1e9);
      Limit again = Limit.parse(limit.toString());
      assertThat(again).isEqualTo(limit);
      assertThat(again.toString()).isEqualTo(limit.toString());
    });
  }
}
