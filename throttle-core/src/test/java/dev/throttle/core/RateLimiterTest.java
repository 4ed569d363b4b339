package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Behaviour of the in-process limiter, on a manual clock: timelines, not sleeps. */
class RateLimiterTest {

  /** At 2024-10-04T00:00:00Z, on a whole day: interval boundaries fall at whole intervals from the start. */
  private final ManualClock clock = new ManualClock(123_456_789L, 20_000 * 86_400_000_000_000L);
  private final Timeline timeline = new Timeline(clock);

  private RateLimiter limiter(String limit) {
    return RateLimiter.builder(Limit.parse(limit)).clock(clock).scheduler(clock).build();
  }

  private void whenReady(RateLimiter limiter, String name, long cost) {
    limiter.acquireAsync(cost).thenRun(() -> timeline.record("ready " + name));
  }

  @Test
  void refusesWhenBurstIsSpent() {
    RateLimiter limiter = limiter("10/s burst 3");
    assertThat(limiter.tryAcquire()).isTrue();
    assertThat(limiter.tryAcquire(2)).isTrue();
    assertThat(limiter.tryAcquire()).isFalse();
    clock.advance(Duration.ofMillis(99));
    assertThat(limiter.tryAcquire()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(limiter.tryAcquire()).isTrue();
    assertThat(limiter.tryAcquire()).isFalse();
  }

  @Test
  void refillsContinuouslyAtExactlyTheRateEvenWhenATokenIsNotAWholeNanosecond() {
    RateLimiter limiter = limiter("3/s burst 2");
    for (String name : new String[] {"A", "B", "C", "D", "E", "F"}) {
      whenReady(limiter, name, 1);
    }
    clock.advance(Duration.ofSeconds(2));
    // Each grant is on the first whole nanosecond at which its token exists; no rounding accumulates.
    timeline.assertEvents("ready A at 0.000000000", "ready B at 0.000000000", "ready C at 0.333333334",
        "ready D at 0.666666667", "ready E at 1.000000000", "ready F at 1.333333334");
  }

  @Test
  void aRequestForTheWholeBurstWaitsForAFullBucketAndTheBucketHoldsNoMore() {
    // With burst 1 every waiter needs a full bucket. It is granted on the first whole nanosecond after the bucket
    // filled, and a full bucket gains nothing in that fraction of a nanosecond: each grant may be up to 1 ns later
    // than rate alone would say (at 3/s, a part in 10^9), exactly as the fraction model of spec/gen-vectors.py says.
    RateLimiter limiter = limiter("3/s burst 1");
    for (String name : new String[] {"A", "B", "C", "D"}) {
      whenReady(limiter, name, 1);
    }
    clock.advance(Duration.ofSeconds(2));
    timeline.assertEvents("ready A at 0.000000000", "ready B at 0.333333334", "ready C at 0.666666668",
        "ready D at 1.000000002");
  }

  @Test
  void aFullBucketLetsTheBurstThroughThenTheRate() {
    RateLimiter limiter = limiter("10/s burst 3");
    for (String name : new String[] {"A", "B", "C", "D", "E"}) {
      whenReady(limiter, name, 1);
    }
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("ready A at 0.000000000", "ready B at 0.000000000", "ready C at 0.000000000",
        "ready D at 0.100000000", "ready E at 0.200000000");
  }

  @Test
  void intervalRefillAddsWholeChunksAtTheBoundaries() {
    RateLimiter limiter = limiter("4/s every 250ms");
    assertThat(limiter.tryAcquire(4)).isTrue();
    whenReady(limiter, "A", 1);
    whenReady(limiter, "B", 2);
    whenReady(limiter, "C", 1);
    clock.advance(Duration.ofMillis(249));
    timeline.assertEvents();
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("ready A at 0.250000000", "ready B at 0.750000000", "ready C at 1.000000000");
  }

  @Test
  void aReservationsDecisionAgreesWithWhetherItWasGranted() {
    RateLimiter limiter = limiter("10/s burst 2");
    Reservation now = limiter.reserve(2, Duration.ZERO);
    assertThat(now.decision()).isEqualTo(Decision.allowed(0, 200_000_000));
    Reservation later = limiter.reserve(1, Duration.ofSeconds(1));
    assertThat(later.isGranted()).isTrue();
    assertThat(later.isReady()).isFalse();
    assertThat(later.decision().isAllowed()).isTrue();
    assertThat(later.decision()).isEqualTo(Decision.allowedAfter(0, 100_000_000, 300_000_000));
    assertThat(later.decision()).hasToString("allowed after 100000000 ns (remaining 0, full in 300000000 ns)");
    Reservation refused = limiter.reserve(2, Duration.ofMillis(100));
    assertThat(refused.isGranted()).isFalse();
    assertThat(refused.decision().isAllowed()).isFalse();
    assertThat(refused.decision().toString()).startsWith("refused (remaining 0, wait 300000000 ns");
    assertThatThrownBy(() -> Decision.allowedAfter(0, 0, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }

  @Test
  void intervalBoundariesLieOnTheUnixClockWhereverALimiterIsCreated() {
    // Created 100 ms after a boundary of the Unix clock: the first chunk comes 150 ms later, not 250 ms.
    ManualClock c = new ManualClock(-7, 20_000 * 86_400_000_000_000L + 100_000_000);
    Limit limit = Limit.parse("4/s every 250ms");
    RateLimiter early = RateLimiter.builder(limit).clock(c).scheduler(c).build();
    assertThat(early.decide(4).isAllowed()).isTrue();
    assertThat(early.decide(1)).isEqualTo(Decision.refused(0, 150_000_000, 900_000_000));
    c.advance(Duration.ofMillis(60));
    // Another limiter, created later in the same interval, refills at the same instants.
    RateLimiter late = RateLimiter.builder(limit).clock(c).scheduler(c).build();
    assertThat(late.decide(4).isAllowed()).isTrue();
    assertThat(late.decide(1)).isEqualTo(Decision.refused(0, 90_000_000, 840_000_000));
    c.advance(Duration.ofMillis(90));
    assertThat(early.tryAcquire()).isTrue();
    assertThat(late.tryAcquire()).isTrue();
    assertThat(early.tryAcquire()).isFalse();
  }

  @Test
  void theSystemClockPlacesBoundariesOnTheWallClock() {
    long wall = java.time.Instant.now().toEpochMilli() * 1_000_000;
    long unix = Clock.system().unixNanosAt(System.nanoTime());
    assertThat(Math.abs(unix - wall)).as("the system clock's Unix time against the wall clock").isLessThan(50_000_000);
  }

  @Test
  void severalLimitsMustAllPassAndAllPay() {
    RateLimiter limiter = limiter("2/s and 3/min");
    assertThat(limiter.tryAcquire(2)).isTrue();
    clock.advance(Duration.ofMillis(500));
    assertThat(limiter.tryAcquire()).isTrue(); // the minute is now spent, though the second refills
    clock.advance(Duration.ofSeconds(5));
    Decision refused = limiter.decide(1);
    assertThat(refused.isAllowed()).isFalse();
    assertThat(refused.waitNanos()).isEqualTo(Duration.ofSeconds(20).minusMillis(5500).toNanos());
    clock.advance(Duration.ofMillis(14_500));
    assertThat(limiter.tryAcquire()).isTrue();
  }

  @Test
  void decisionsReportRemainingWaitAndReset() {
    RateLimiter limiter = limiter("10/s burst 5");
    assertThat(limiter.decide(2)).isEqualTo(Decision.allowed(3, 200_000_000));
    assertThat(limiter.decide(3)).isEqualTo(Decision.allowed(0, 500_000_000));
    assertThat(limiter.decide(2)).isEqualTo(Decision.refused(0, 200_000_000, 500_000_000));
    clock.advance(Duration.ofMillis(150));
    assertThat(limiter.decide(2)).isEqualTo(Decision.refused(1, 50_000_000, 350_000_000));
    clock.advance(Duration.ofSeconds(10));
    assertThat(limiter.decide(1)).isEqualTo(Decision.allowed(4, 100_000_000));
  }

  @Test
  void waitersAreServedFirstComeFirstServedWhateverTheirCost() {
    RateLimiter limiter = limiter("10/s burst 5");
    assertThat(limiter.tryAcquire(5)).isTrue();
    whenReady(limiter, "big", 5);
    clock.advance(Duration.ofMillis(100));
    // One token is there, but the big request waits for five and nobody overtakes it.
    assertThat(limiter.tryAcquire()).isFalse();
    assertThat(limiter.decide(1).isAllowed()).isFalse();
    whenReady(limiter, "small", 1);
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("ready big at 0.500000000", "ready small at 0.600000000");
  }

  @Test
  void cancelledReservationReturnsTokensAndTheQueueMovesUp() {
    RateLimiter limiter = limiter("10/s burst 1");
    assertThat(limiter.tryAcquire()).isTrue();
    Reservation a = limiter.reserve(1);
    Reservation b = limiter.reserve(1);
    b.whenReady().thenRun(() -> timeline.record("ready b"));
    assertThat(a.delay()).isEqualTo(Duration.ofMillis(100));
    assertThat(b.delay()).isEqualTo(Duration.ofMillis(200));
    clock.advance(Duration.ofMillis(50));
    assertThat(a.cancel()).isTrue();
    assertThat(a.cancel()).isFalse();
    clock.advance(Duration.ofMillis(100));
    timeline.assertEvents("ready b at 0.100000000");
    assertThat(a.whenReady()).isCancelled();
    assertThatThrownBy(a::await).isInstanceOf(java.util.concurrent.CancellationException.class);
  }

  @Test
  void cancellingTheFutureOfAnAsyncAcquireReturnsItsTokens() {
    RateLimiter limiter = limiter("10/s burst 1");
    assertThat(limiter.tryAcquire()).isTrue();
    CompletableFuture<Void> waiting = limiter.acquireAsync(1);
    assertThat(waiting.cancel(true)).isTrue();
    clock.advance(Duration.ofMillis(100));
    assertThat(limiter.tryAcquire()).isTrue(); // the token the cancelled wait would have taken
    assertThat(waiting).isCancelled();
  }

  @Test
  void aWaitThatTimesOutLeavesTheQueue() {
    RateLimiter limiter = limiter("10/s burst 1");
    assertThat(limiter.tryAcquire()).isTrue();
    CompletableFuture<Void> waiting = limiter.acquireAsync(1);
    waiting.completeExceptionally(new java.util.concurrent.TimeoutException()); // as orTimeout() does
    clock.advance(Duration.ofMillis(100));
    assertThat(limiter.tryAcquire()).isTrue();
  }

  @Test
  void aReadyReservationCannotBeCancelled() {
    RateLimiter limiter = limiter("10/s burst 1");
    Reservation now = limiter.reserve(1);
    assertThat(now.isReady()).isTrue();
    assertThat(now.cancel()).isFalse();
    Reservation later = limiter.reserve(1);
    clock.advance(Duration.ofMillis(100));
    assertThat(later.isReady()).isTrue();
    assertThat(later.cancel()).isFalse();
    assertThat(later.whenReady().cancel(true)).isFalse();
    assertThat(later.whenReady()).isCompleted().isNotCancelled();
    assertThat(limiter.tryAcquire()).isFalse();
  }

  @Test
  void reserveRefusesAWaitLongerThanTheMaximumAndQueuesNothing() {
    RateLimiter limiter = limiter("10/s burst 2");
    assertThat(limiter.tryAcquire(2)).isTrue();
    Reservation tooLong = limiter.reserve(2, Duration.ofMillis(150));
    assertThat(tooLong.isGranted()).isFalse();
    assertThat(tooLong.decision().waitNanos()).isEqualTo(200_000_000);
    assertThat(tooLong.whenReady()).isCompletedExceptionally();
    assertThatThrownBy(tooLong::await).isInstanceOf(RateLimitExceededException.class)
        .hasMessageContaining("PT0.2S");
    Reservation fits = limiter.reserve(1, Duration.ofMillis(100));
    assertThat(fits.isGranted()).isTrue();
    assertThat(fits.delay()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void tryAcquireWithATimeoutFailsAtOnceWhenTheWaitWouldBeLonger() throws InterruptedException {
    RateLimiter limiter = limiter("1/s");
    assertThat(limiter.tryAcquire()).isTrue();
    // On a manual clock, a call that waited would never return: returning at all proves it did not wait.
    assertThat(limiter.tryAcquire(1, Duration.ofMillis(999))).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(limiter.tryAcquire()).isTrue(); // the refused call took nothing
  }

  @Test
  void tryAcquireWithATimeoutWaitsWhenTheWaitFits() throws Exception {
    RateLimiter limiter = limiter("1/s");
    assertThat(limiter.tryAcquire()).isTrue();
    AtomicReference<Boolean> result = new AtomicReference<>();
    Thread caller = new Thread(() -> {
      try {
        result.set(limiter.tryAcquire(1, Duration.ofSeconds(1)));
        timeline.record("acquired");
      } catch (InterruptedException e) {
        result.set(null);
      }
    });
    caller.start();
    await().until(() -> caller.getState() == Thread.State.WAITING);
    clock.advance(Duration.ofMillis(999));
    assertThat(result.get()).isNull();
    clock.advance(Duration.ofMillis(1));
    caller.join(10_000);
    assertThat(result.get()).isTrue();
    timeline.assertEvents("acquired at 1.000000000");
  }

  @Test
  void anInterruptedAcquireThrowsAndReturnsItsTokens() throws Exception {
    RateLimiter limiter = limiter("1/s");
    assertThat(limiter.tryAcquire()).isTrue();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    Thread caller = new Thread(() -> {
      try {
        limiter.acquire();
      } catch (Throwable e) {
        thrown.set(e);
      }
      done.countDown();
    });
    caller.start();
    await().until(() -> caller.getState() == Thread.State.WAITING);
    caller.interrupt();
    assertThat(done.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    clock.advance(Duration.ofSeconds(1));
    assertThat(limiter.tryAcquire()).isTrue(); // not taken by the interrupted wait
  }

  @Test
  void aCostAboveTheBurstFailsAtOnceWithAClearMessage() {
    RateLimiter limiter = limiter("10/s burst 20");
    assertThatThrownBy(() -> limiter.tryAcquire(21)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the cost 21 exceeds the burst of the limit '10/s burst 20' (at most 20 tokens): such a request "
            + "could never pass");
    assertThatThrownBy(() -> limiter.acquire(21)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limiter.acquireAsync(21)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limiter.decide(0)).hasMessage("the cost must be at least 1 token, got 0");
    assertThatThrownBy(() -> limiter.reserve(1, Duration.ofSeconds(-1)))
        .hasMessage("the maximum wait cannot be negative: PT-1S");
  }

  @Test
  void theLockFreePathComesBackWhenNobodyWaits() {
    BucketRateLimiter limiter = (BucketRateLimiter) limiter("10/s burst 1");
    assertThat(limiter.state()).isInstanceOf(Cell.class);
    limiter.tryAcquire();
    limiter.acquireAsync(1);
    assertThat(limiter.state()).isInstanceOf(LockedBucket.class);
    clock.advance(Duration.ofMillis(100));
    assertThat(limiter.state()).isInstanceOf(Cell.class);
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void manyAsyncWaitersUseOneScheduledTaskAndCompleteInOrder() {
    RateLimiter limiter = limiter("1000/s burst 10");
    int n = 100_000;
    int[] readyInOrder = {0};
    boolean[] outOfOrder = {false};
    for (int i = 0; i < n; i++) {
      int index = i;
      limiter.acquireAsync(1).thenRun(() -> {
        outOfOrder[0] |= readyInOrder[0] != index;
        readyInOrder[0]++;
      });
    }
    assertThat(clock.pendingTasks()).isEqualTo(1);
    clock.advance(Duration.ofMillis(49_989));
    assertThat(readyInOrder[0]).isEqualTo(10 + 49_989);
    clock.advance(Duration.ofMillis(50_001));
    assertThat(readyInOrder[0]).isEqualTo(n);
    assertThat(outOfOrder[0]).isFalse();
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void aLateSchedulerLosesNoRefillEvenWithABurstOfOne() {
    // Every wake-up runs 150 us late, as a busy scheduler thread does. Waiters are granted at their due times, so
    // the late wake-ups only delay when callbacks run, never the rate: at 10,000/s burst 1 the grant times stay
    // 100 us apart, and by 100 ms every waiter due 150 us before has been served (granting at the moment of the
    // wake-up instead would space them 250 us apart: 40% of the rate).
    long lateness = 150_000;
    Scheduler late = (task, delayNanos) -> clock.schedule(task, delayNanos + lateness);
    RateLimiter limiter = RateLimiter.builder(Limit.parse("10000/s burst 1")).clock(clock).scheduler(late).build();
    int[] ready = {0};
    for (int i = 0; i < 1000; i++) {
      limiter.acquireAsync().thenRun(() -> ready[0]++);
    }
    clock.advance(Duration.ofMillis(100));
    assertThat(ready[0]).isEqualTo(1 + (100_000_000 - 150_000) / 100_000);
    clock.advance(Duration.ofMillis(1));
    assertThat(ready[0]).isEqualTo(1000);
    // The bucket decided the last grant at 99.9 ms: a token is there again at 100 ms.
    assertThat(limiter.tryAcquire()).isTrue();
  }

  @Test
  void theRateStaysExactOverDaysOfRebasedEpochs() {
    // a = 999999937 credits per ns: the epoch moves about every second, so a day crosses ~80,000 epochs.
    RateLimiter limiter = limiter("999999937/s burst 5");
    long granted = 0;
    for (int i = 0; i < 1000; i++) {
      clock.advance(Duration.ofSeconds(86));
      if (limiter.tryAcquire(5)) {
        granted += 5;
      }
    }
    assertThat(granted).isEqualTo(5000);
    assertThat(limiter.tryAcquire()).isFalse();
    clock.advanceNanos(1);
    assertThat(limiter.decide(1).waitNanos()).isEqualTo(1); // 1 ns makes 0.999999937 of a token
    clock.advanceNanos(1);
    assertThat(limiter.tryAcquire()).isTrue();
    assertThat(limiter.tryAcquire()).isFalse(); // 2 ns make 1.999999874 tokens
  }
}
