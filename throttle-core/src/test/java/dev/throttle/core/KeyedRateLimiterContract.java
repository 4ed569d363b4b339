package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link KeyedRateLimiter} shares, whether it keeps its buckets in this process
 * ({@link LocalKeyedRateLimiter}, see {@code LocalStoreContractTest}) or elsewhere (throttle-redis runs the same tests
 * against Redis). One specification, several backends, as Bucket4j's {@code BucketType} does; each backend runs it
 * twice, through the sync methods and through the {@code ...Async} ones ({@link #async()}), so a program written
 * against the interface runs unchanged on any store in either form.
 *
 * <p>A subclass creates stores whose time is the given {@link ManualClock} (which is also their scheduler for
 * reservations). The clock stays on whole microseconds whenever a store is asked, because Redis counts time in
 * microseconds; waits are still checked to the nanosecond.
 *
 * <p>One difference between backends is declared rather than hidden: {@link KeyedRateLimiter#cancellation()}, which
 * decides which rows of the vector table a store follows and what {@code cancellingAReservationWithOthersBehindIt}
 * expects.
 */
public abstract class KeyedRateLimiterContract {

  /** 2024-10-04T00:00:00Z, a realistic Unix time (Redis counts it exactly) on a whole day. */
  protected static final long UNIX_START = 20_000 * 86_400_000_000_000L;

  /**
   * Starts near the end of the {@code long} range (nothing may depend on absolute clock values), at Unix time
   * {@link #UNIX_START}, where interval boundaries are placed.
   */
  protected final ManualClock clock = new ManualClock(Long.MAX_VALUE - 3_000_000_000L, UNIX_START);

  /** A new, empty store for {@code limit} on {@code clock}. */
  protected abstract KeyedRateLimiter<String> newStore(Limit limit, ManualClock clock);

  /** Whether the tests go through the {@code ...Async} methods (joined) instead of the sync ones. */
  protected abstract boolean async();

  /** The cancellation the store under test promises (each subclass states it, so a change is seen here). */
  protected abstract KeyedRateLimiter.Cancellation promisedCancellation();

  private KeyedRateLimiter<String> store(String limit) {
    return newStore(Limit.parse(limit), clock);
  }

  private Decision decide(KeyedRateLimiter<String> store, String key, long cost) {
    return async() ? store.decideAsync(key, cost).join() : store.decide(key, cost);
  }

  private Decision estimate(KeyedRateLimiter<String> store, String key, long cost) {
    return async() ? store.estimateAsync(key, cost).join() : store.estimate(key, cost);
  }

  private Reservation reserve(KeyedRateLimiter<String> store, String key, long cost, Duration maxWait) {
    return async() ? store.reserveAsync(key, cost, maxWait).join() : store.reserve(key, cost, maxWait);
  }

  private void advanceMicros(long micros) {
    clock.advanceNanos(micros * 1000);
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }

  @Test
  void statesItsCancellation() {
    assertThat(store("10/s").cancellation()).isEqualTo(promisedCancellation());
  }

  @Test
  void followsTheSharedVectorTable() {
    int played = 0;
    for (Vectors.Scenario scenario : Vectors.load()) {
      if (!scenario.holdsFor(promisedCancellation())) {
        continue; // written for the other cancellation, whose twin scenario follows or precedes it
      }
      played++;
      // Interval boundaries lie on the Unix clock: move to the scenario's place between them (every interval in the
      // table divides a day).
      long unixNow = clock.unixNanosAt(clock.nanoTime());
      clock.advanceNanos(Math.floorMod(scenario.unixStart() - unixNow, 86_400_000_000_000L));
      long start = clock.nanoTime();
      KeyedRateLimiter<String> store = store(scenario.limit());
      Vectors.play(scenario, new Vectors.Driver() {
        @Override
        public void advanceTo(long t) {
          clock.advanceNanos(t - (clock.nanoTime() - start));
        }

        @Override
        public Decision decide(long cost) {
          // estimate foretells every decision of the table, and takes nothing (or the decision would differ)
          Decision estimate = estimate(store, "vectors", cost);
          Decision decision = KeyedRateLimiterContract.this.decide(store, "vectors", cost);
          assertThat(estimate).as("estimate before the decision").isEqualTo(decision);
          return decision;
        }

        @Override
        public Reservation reserve(long cost, long maxWaitNanos) {
          return KeyedRateLimiterContract.this.reserve(store, "vectors", cost, Duration.ofNanos(maxWaitNanos));
        }
      });
    }
    assertThat(played).isGreaterThan(20);
  }

  @Test
  void refusesWhenTheBurstIsSpentAndAllowsAfterTheWait() {
    KeyedRateLimiter<String> store = store("10/s burst 5");
    for (int left = 4; left >= 0; left--) {
      assertThat(decide(store, "k", 1)).isEqualTo(Decision.allowed(left, 100_000_000L * (5 - left)));
    }
    Decision refused = decide(store, "k", 1);
    assertThat(refused).isEqualTo(Decision.refused(0, 100_000_000, 500_000_000));
    advanceMicros(99_999);
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.refused(0, 1_000, 400_001_000));
    advanceMicros(1);
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.allowed(0, 500_000_000));
  }

  @Test
  void anEstimateTakesNothing() {
    KeyedRateLimiter<String> store = store("10/s burst 5 and 20/min");
    for (int i = 0; i < 3; i++) {
      assertThat(estimate(store, "k", 5)).isEqualTo(Decision.allowed(0, 15_000_000_000L));
    }
    assertThat(decide(store, "k", 2)).isEqualTo(Decision.allowed(3, 6_000_000_000L));
    assertThat(estimate(store, "k", 4)).isEqualTo(Decision.refused(3, 100_000_000, 6_000_000_000L));
    assertThat(decide(store, "k", 3)).isEqualTo(Decision.allowed(0, 15_000_000_000L));
    assertThatThrownBy(() -> estimate(store, "k", 6)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("6");
  }

  @Test
  void eachKeyHasItsOwnBucket() {
    KeyedRateLimiter<String> store = store("1/s burst 2");
    assertThat(decide(store, "alice", 2).isAllowed()).isTrue();
    assertThat(decide(store, "alice", 1).isAllowed()).isFalse();
    assertThat(decide(store, "bob", 2)).isEqualTo(Decision.allowed(0, 2_000_000_000L));
    assertThat(decide(store, "bob", 1).isAllowed()).isFalse();
  }

  @Test
  void severalLimitsTakeFromAllOrNone() {
    // A refusal by the per-second bucket must not charge the hourly one, or the grants at 1 s and 2 s would fail.
    KeyedRateLimiter<String> store = store("1/s burst 1 and 1/h burst 3");
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.allowed(0, 3_600_000_000_000L));
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.refused(0, 1_000_000_000, 3_600_000_000_000L));
    assertThat(decide(store, "k", 1).isAllowed()).isFalse();
    advanceMicros(1_000_000);
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    advanceMicros(1_000_000);
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    advanceMicros(1_000_000);
    Decision third = decide(store, "k", 1);
    assertThat(third.isAllowed()).isFalse();
    assertThat(third.waitTime()).isEqualTo(Duration.ofSeconds(3597));
  }

  @Test
  void costsOutsideOneToTheBurstFailAtOnceNamingTheCost() {
    KeyedRateLimiter<String> store = store("10/s burst 5 and 100/min");
    for (long bad : new long[] {0, -1, 6, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> decide(store, "k", bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Long.toString(bad));
      assertThatThrownBy(() -> reserve(store, "k", bad, ms(10)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Long.toString(bad));
    }
    assertThatThrownBy(() -> decide(store, "k", 6)).hasMessageContaining("at most 5");
    assertThatThrownBy(() -> reserve(store, "k", 1, Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative");
    assertThat(decide(store, "k", 5).isAllowed()).as("nothing was taken by the bad calls").isTrue();
  }

  @Test
  void aReservationIsReadyAtOnceWhenTheTokensAreThere() {
    KeyedRateLimiter<String> store = store("10/s burst 5");
    Reservation r = reserve(store, "k", 2, Duration.ZERO);
    assertThat(r.isGranted()).isTrue();
    assertThat(r.isReady()).isTrue();
    assertThat(r.delayNanos()).isZero();
    assertThat(r.decision()).isEqualTo(Decision.allowed(3, 200_000_000));
    assertThat(r.whenReady()).isCompleted();
    assertThat(r.cancel()).as("its tokens are spent").isFalse();
    assertThat(decide(store, "k", 3)).isEqualTo(Decision.allowed(0, 500_000_000));
  }

  @Test
  void reservationsWaitTheirTurnInOrder() {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    Timeline timeline = new Timeline(clock);
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    Reservation a = reserve(store, "k", 1, Duration.ofSeconds(1));
    Reservation b = reserve(store, "k", 1, Duration.ofSeconds(1));
    assertThat(a.isGranted()).isTrue();
    assertThat(a.delay()).isEqualTo(ms(100));
    assertThat(a.decision()).as("granted, to proceed after its wait")
        .isEqualTo(Decision.allowedAfter(0, 100_000_000, 200_000_000));
    assertThat(a.decision().isAllowed()).isEqualTo(a.isGranted());
    assertThat(a.decision()).hasToString("allowed after 100000000 ns (remaining 0, full in 200000000 ns)");
    assertThat(b.delay()).isEqualTo(ms(200));
    a.whenReady().thenRun(() -> timeline.record("A ready"));
    b.whenReady().thenRun(() -> timeline.record("B ready"));
    assertThat(a.isReady()).isFalse();
    // While others wait, the reset is the bucket's as if this request had queued behind them.
    assertThat(decide(store, "k", 1)).as("nobody overtakes the waiters")
        .isEqualTo(Decision.refused(0, 300_000_000, 400_000_000));
    advanceMicros(99_999);
    timeline.assertEvents();
    advanceMicros(100_001);
    timeline.assertEvents("A ready at 0.100000000", "B ready at 0.200000000");
    assertThat(a.isReady()).isTrue();
    assertThat(b.isReady()).isTrue();
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.refused(0, 100_000_000, 100_000_000));
  }

  @Test
  void aSmallRequestDoesNotOvertakeALargeOne() {
    KeyedRateLimiter<String> store = store("10/s burst 5");
    assertThat(decide(store, "k", 5).isAllowed()).isTrue();
    Reservation large = reserve(store, "k", 5, Duration.ofSeconds(1));
    assertThat(large.delay()).isEqualTo(ms(500));
    advanceMicros(100_000); // one token is back, but it belongs to the large request
    assertThat(decide(store, "k", 1).waitTime()).isEqualTo(ms(500));
    Reservation small = reserve(store, "k", 1, Duration.ofSeconds(1));
    assertThat(small.delay()).isEqualTo(ms(500));
    advanceMicros(400_000);
    assertThat(large.isReady()).isTrue();
    assertThat(small.isReady()).isFalse();
    advanceMicros(100_000);
    assertThat(small.isReady()).isTrue();
  }

  @Test
  void aReservationBeyondTheMaximumWaitIsNotGrantedAndTakesNothing() {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    Reservation r = reserve(store, "k", 1, ms(50));
    assertThat(r.isGranted()).isFalse();
    assertThat(r.isReady()).isFalse();
    assertThat(r.decision().isAllowed()).isFalse();
    assertThat(r.decision().waitTime()).isEqualTo(ms(100));
    assertThat(r.whenReady()).isCompletedExceptionally();
    assertThatThrownBy(() -> r.whenReady().join()).isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(RateLimitExceededException.class);
    assertThat(r.cancel()).isFalse();
    assertThat(reserve(store, "k", 1, ms(100)).delay()).as("the refused reservation took nothing")
        .isEqualTo(ms(100));
  }

  @Test
  void aCancelledReservationReturnsItsTokens() {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    Reservation r = reserve(store, "k", 1, Duration.ofSeconds(1));
    assertThat(r.delay()).isEqualTo(ms(100));
    assertThat(r.cancel()).isTrue();
    assertThat(r.cancel()).as("only once").isFalse();
    assertThat(r.whenReady()).isCancelled();
    assertThat(r.refunded().join()).as("the last reservation is refunded by every store").isTrue();
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.refused(0, 100_000_000, 100_000_000));
    advanceMicros(100_000);
    assertThat(r.isReady()).isFalse();
    assertThat(decide(store, "k", 1)).isEqualTo(Decision.allowed(0, 100_000_000));
  }

  @Test
  void cancellingTheFutureCancelsTheReservation() {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    Reservation r = reserve(store, "k", 1, Duration.ofSeconds(1));
    assertThat(r.whenReady().cancel(false)).isTrue();
    assertThat(reserve(store, "k", 1, Duration.ofSeconds(1)).delay()).isEqualTo(ms(100));
  }

  @Test
  void aReadyReservationCannotBeCancelled() {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    Reservation r = reserve(store, "k", 1, Duration.ofSeconds(1));
    advanceMicros(100_000);
    assertThat(r.isReady()).isTrue();
    assertThat(r.cancel()).isFalse();
    assertThat(r.refunded().join()).isFalse();
    assertThat(decide(store, "k", 1).waitTime()).as("its tokens are spent").isEqualTo(ms(100));
  }

  @Test
  void cancellingAReservationWithOthersBehindIt() {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    Timeline timeline = new Timeline(clock);
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    Reservation a = reserve(store, "k", 1, Duration.ofSeconds(1));
    Reservation b = reserve(store, "k", 1, Duration.ofSeconds(1));
    b.whenReady().thenRun(() -> timeline.record("B ready"));
    assertThat(a.cancel()).isTrue();
    boolean exact = store.cancellation() == KeyedRateLimiter.Cancellation.EXACT;
    assertThat(a.refunded().join()).as("refunded past a later reservation").isEqualTo(exact);
    advanceMicros(300_000);
    timeline.assertEvents(exact ? "B ready at 0.100000000" : "B ready at 0.200000000");
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
  }

  @Test
  void agreesWithTheExactFractionModelOnRandomRequests() {
    Props.forAll("store agrees with the reference model", 25, r -> {
      Limit limit = Props.limit(r, 0.2, 100_000);
      KeyedRateLimiter<String> store = newStore(limit, clock);
      ReferenceBucket reference = new ReferenceBucket(limit, clock.unixNanosAt(clock.nanoTime()));
      long t = 0;
      for (int i = 0; i < 30; i++) {
        long step = wholeMicros(r, Props.step(r, limit));
        clock.advanceNanos(step);
        t += step;
        long cost = Props.cost(r, limit);
        assertThat(decide(store, "k", cost)).as("%s: %d tokens at %d ns", limit, cost, t)
            .isEqualTo(reference.decide(t, cost));
      }
    });
  }

  @Test
  void theCostOneShorthandsTakeOneToken() {
    KeyedRateLimiter<String> store = store("10/s burst 3");
    if (async()) {
      assertThat(store.tryAcquireAsync("k").join()).isTrue();
      assertThat(store.decideAsync("k").join()).isEqualTo(Decision.allowed(1, 200_000_000));
      assertThat(store.availableAsync("k").join()).isEqualTo(1);
      assertThat(store.acquireAsync("k").join()).isNull();
      assertThat(store.tryAcquireAsync("k").join()).isFalse();
      assertThat(store.availableAsync("k").join()).isZero();
    } else {
      assertThat(store.tryAcquire("k")).isTrue();
      assertThat(store.decide("k")).isEqualTo(Decision.allowed(1, 200_000_000));
      assertThat(store.available("k")).isEqualTo(1);
      assertThatCode(() -> store.acquire("k")).doesNotThrowAnyException();
      assertThat(store.tryAcquire("k")).isFalse();
      assertThat(store.available("k")).isZero();
    }
  }

  @Test
  void anAcquireWaitsItsTurnAndCancellingItsFutureFreesThePlace() throws InterruptedException {
    KeyedRateLimiter<String> store = store("10/s burst 1");
    assertThat(decide(store, "k", 1).isAllowed()).isTrue();
    CompletableFuture<Void> first = store.acquireAsync("k", 1);
    CompletableFuture<Void> second = store.acquireAsync("k", 1);
    // A later call on the same key is answered after both acquires have their places (Redis answers in order).
    assertThat(estimate(store, "k", 1).isAllowed()).isFalse();
    assertThat(first).isNotDone();
    assertThat(second.cancel(false)).isTrue();
    advanceMicros(100_000);
    assertThat(first).succeedsWithin(Duration.ofSeconds(10));
    if (store.cancellation() == KeyedRateLimiter.Cancellation.EXACT) {
      assertThat(decide(store, "k", 1).isAllowed()).as("the cancelled acquire took nothing").isFalse();
    }
    advanceMicros(200_000);
    assertThat(store.tryAcquire("k", 1, Duration.ZERO)).isTrue();
    assertThat(store.tryAcquire("k", 1, Duration.ofMillis(50))).as("the wait would be 100 ms").isFalse();
  }

  @Test
  void oneKeyAsARateLimiterIsTheSameBucket() {
    KeyedRateLimiter<String> store = store("10/s burst 2");
    RateLimiter global = store.forKey("global");
    assertThat(global.limit()).isEqualTo(store.limit());
    assertThat(global.cancellation()).isEqualTo(promisedCancellation());
    assertThat(global.estimate(1)).isEqualTo(Decision.allowed(1, 100_000_000));
    assertThat(global.tryAcquire()).isTrue();
    assertThat(decide(store, "global", 1)).as("the same bucket").isEqualTo(Decision.allowed(0, 200_000_000));
    assertThat(global.available()).isZero();
    assertThat(global.decide(1)).isEqualTo(Decision.refused(0, 100_000_000, 200_000_000));
    CompletableFuture<Void> acquired = global.acquireAsync();
    Reservation r = global.reserve(1, Duration.ofSeconds(1));
    assertThat(r.delay()).isEqualTo(ms(200));
    assertThat(acquired).isNotDone();
    advanceMicros(100_000);
    assertThat(acquired).succeedsWithin(Duration.ofSeconds(10));
    assertThat(store.forKey("other").tryAcquire(2)).as("another key, another bucket").isTrue();
  }

  @Test
  void statesItsCountsByName() {
    KeyedRateLimiter<String> store = store("10/s");
    decide(store, "k", 1);
    assertThat(store.stats().counts()).isNotEmpty().allSatisfy((name, count) -> assertThat(count).isNotNegative());
  }

  private static long wholeMicros(SplittableRandom r, long nanos) {
    long capped = Math.min(nanos, 400L * 86_400_000_000_000L); // the reference model is slow beyond a year
    return (capped + r.nextLong(0, 1000)) / 1000 * 1000;
  }
}
