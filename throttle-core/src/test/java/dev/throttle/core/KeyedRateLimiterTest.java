package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

class KeyedRateLimiterTest {

  /** Reads -42 at Unix time 0: interval boundaries fall at whole intervals from the start. */
  private final ManualClock clock = new ManualClock(-42, 0);

  private LocalKeyedRateLimiter.Builder<String> builder(String limit) {
    return KeyedRateLimiter.<String>builder(Limit.parse(limit)).clock(clock).scheduler(clock);
  }

  @Test
  void eachKeyHasItsOwnBucket() {
    LocalKeyedRateLimiter<String> limiter = builder("10/s burst 2").build();
    assertThat(limiter.tryAcquire("alice", 2)).isTrue();
    assertThat(limiter.tryAcquire("alice", 1)).isFalse();
    assertThat(limiter.tryAcquire("bob", 2)).isTrue();
    assertThat(limiter.decide("carol", 1)).isEqualTo(Decision.allowed(1, 100_000_000));
    assertThat(limiter.size()).isEqualTo(3);
  }

  @Test
  void aBucketThatHasRefilledIsDroppedAndAReturningKeyIsTreatedExactlyAsBefore() {
    LocalKeyedRateLimiter<String> limiter = builder("10/s burst 5").build();
    limiter.tryAcquire("a", 5);
    limiter.tryAcquire("b", 1);
    clock.advance(Duration.ofMillis(100));
    limiter.cleanUp();
    assertThat(limiter.size()).as("b is full again after 100 ms; a is not").isEqualTo(1);
    clock.advance(Duration.ofMillis(399));
    limiter.cleanUp();
    assertThat(limiter.size()).isEqualTo(1);
    clock.advance(Duration.ofMillis(1));
    limiter.cleanUp();
    assertThat(limiter.size()).isZero();
    // A dropped key starts full, which is exactly the state it had.
    assertThat(limiter.decide("a", 5)).isEqualTo(Decision.allowed(0, 500_000_000));
  }

  @Test
  void intervalBucketsStayAlignedSoThatDroppingAFullOneChangesNothing() {
    LocalKeyedRateLimiter<String> limiter = builder("4/s every 250ms").build();
    clock.advance(Duration.ofMillis(100));
    assertThat(limiter.tryAcquire("k", 1)).isTrue();
    clock.advance(Duration.ofMillis(150)); // a boundary: full again
    limiter.cleanUp();
    assertThat(limiter.size()).isZero();
    assertThat(limiter.tryAcquire("k", 4)).isTrue();
    // The next chunk comes at the next boundary of the Unix clock (500 ms), not 250 ms after the key came back.
    assertThat(limiter.decide("k", 1).waitNanos()).isEqualTo(250_000_000);
  }

  @Test
  void availableAndEstimateTakeNothingAndAddNoKey() {
    LocalKeyedRateLimiter<String> limiter = builder("10/s burst 5 and 100/min").build();
    assertThat(limiter.available("new")).isEqualTo(5);
    assertThat(limiter.estimate("new", 5)).isEqualTo(Decision.allowed(0, 3_000_000_000L));
    assertThat(limiter.size()).as("asking adds no key").isZero();
    assertThat(limiter.decide("k", 4).isAllowed()).isTrue();
    assertThat(limiter.available("k")).isEqualTo(1);
    assertThat(limiter.estimate("k", 2)).isEqualTo(Decision.refused(1, 100_000_000, 2_400_000_000L));
    Reservation waiting = limiter.reserve("k", 3, Duration.ofSeconds(1));
    assertThat(waiting.isReady()).isFalse();
    assertThat(limiter.available("k")).as("nothing is available while a request waits").isZero();
    assertThat(limiter.estimate("k", 1).waitNanos()).isEqualTo(300_000_000);
    clock.advance(Duration.ofMillis(200));
    assertThat(waiting.isReady()).isTrue();
    assertThat(limiter.available("k")).isZero();
    clock.advance(Duration.ofMillis(100));
    assertThat(limiter.available("k")).isEqualTo(1);
    assertThat(limiter.size()).isEqualTo(1);
  }

  @Test
  void memoryFollowsActiveKeysNotEveryKeyEverSeen() {
    LocalKeyedRateLimiter<String> limiter = builder("10/s burst 1").build();
    for (int i = 0; i < 100_000; i++) {
      limiter.tryAcquire("key-" + i, 1);
      if (i % 100 == 0) {
        clock.advance(Duration.ofMillis(20)); // each bucket is full again 100 ms after its request
      }
    }
    // Sweeps run as the map grows: at most the keys of the last ~100 ms, twice over, and never below MIN_SWEEP.
    assertThat(limiter.size()).isLessThanOrEqualTo(2 * LocalKeyedRateLimiter.MIN_SWEEP + 500);
  }

  @Test
  void atTheMaximumTheBucketsHoldingTheMostTokensAreDroppedFirst() {
    LocalKeyedRateLimiter<String> limiter = builder("1/min burst 10").maxKeys(32).build();
    limiter.tryAcquire("busy", 10); // empty, must not be forgotten
    for (int i = 0; i < 31; i++) {
      limiter.tryAcquire("idle-" + i, 1); // nine tokens left each
    }
    assertThat(limiter.size()).isEqualTo(32);
    assertThat(limiter.tryAcquire("new", 1)).isTrue();
    assertThat(limiter.size()).isLessThanOrEqualTo(32);
    assertThat(limiter.evictedBeforeFull()).isEqualTo(2); // a sixteenth of 32
    assertThat(limiter.tryAcquire("busy", 1)).as("the busy key kept its empty bucket").isFalse();
  }

  @Test
  void refuseNewKeysPolicyRefusesNewcomersUntilABucketIsFullAgain() {
    LocalKeyedRateLimiter<String> limiter = builder("1/s burst 2").maxKeys(2)
        .onOverflow(LocalKeyedRateLimiter.OverflowPolicy.REFUSE_NEW_KEYS).build();
    assertThat(limiter.tryAcquire("a", 1)).isTrue();
    clock.advance(Duration.ofMillis(300));
    assertThat(limiter.tryAcquire("b", 2)).isTrue();
    Decision refused = limiter.decide("c", 1);
    assertThat(refused.isAllowed()).isFalse();
    assertThat(refused.waitNanos()).as("until a is full again, 1 s after its request").isEqualTo(700_000_000);
    assertThat(limiter.tryAcquire("a", 1)).as("held keys are unaffected").isTrue();
    assertThat(limiter.reserve("c", 1, Duration.ofSeconds(10)).isGranted()).isFalse();
    // One exception for one event, whichever way the refused acquire is asked.
    assertThatThrownBy(() -> limiter.acquire("c")).isInstanceOf(RateLimitExceededException.class);
    assertThatThrownBy(() -> limiter.forKey("c").acquire()).isInstanceOf(RateLimitExceededException.class);
    assertThat(limiter.acquireAsync("c")).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(RateLimitExceededException.class);
    assertThat(limiter.stats()).isEqualTo(new LocalKeyedRateLimiter.Stats(2, 0));
    clock.advance(Duration.ofSeconds(2));
    assertThat(limiter.tryAcquire("c", 1)).isTrue();
    assertThat(limiter.evictedBeforeFull()).isZero();
  }

  @Test
  void eachKeyQueuesItsOwnWaiters() {
    LocalKeyedRateLimiter<String> limiter = builder("10/s burst 1").build();
    Timeline timeline = new Timeline(clock);
    limiter.tryAcquire("a", 1);
    limiter.tryAcquire("b", 1);
    limiter.acquireAsync("a", 1).thenRun(() -> timeline.record("a1"));
    Reservation cancelled = limiter.reserve("a", 1, Duration.ofSeconds(1));
    limiter.acquireAsync("a", 1).thenRun(() -> timeline.record("a3"));
    limiter.acquireAsync("b", 1).thenRun(() -> timeline.record("b1"));
    assertThat(cancelled.cancel()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("a1 at 0.100000000", "b1 at 0.100000000", "a3 at 0.200000000");
  }

  @Test
  void itsAsyncFormsAnswerAtOnceWithTheSameDecisions() {
    KeyedRateLimiter<String> store = builder("10/s burst 2").build();
    assertThat(store.limit()).isEqualTo(Limit.parse("10/s burst 2"));
    assertThat(store.decideAsync("k", 2)).isCompletedWithValue(Decision.allowed(0, 200_000_000));
    Reservation waiting = store.reserveAsync("k", 1, Duration.ofSeconds(1)).join();
    assertThat(waiting.delay()).isEqualTo(Duration.ofMillis(100));
    assertThat(store.reserveAsync("k", 2, Duration.ofMillis(100)).join().isGranted()).isFalse();
    assertThatThrownBy(() -> store.decideAsync("k", 3)).isInstanceOf(IllegalArgumentException.class);
    assertThat(waiting.cancel()).isTrue();
    clock.advance(Duration.ofMillis(100));
    assertThat(store.decideAsync("k", 1).join().isAllowed()).isTrue();
  }

  @Test
  void aNewKeysBurstPassesWholeForThreadsWhoseClockReadingIsAMomentOlder() {
    // Thread A reads 1000 ns and creates the key's bucket; threads that read the clock at 500 ns, before A, decide
    // afterwards. A new bucket is full for all of them.
    long[] readings = {0, 1_000, 500, 500, 500, 500, 500};
    int[] next = {0};
    Clock scripted = () -> readings[Math.min(next[0]++, readings.length - 1)];
    LocalKeyedRateLimiter<String> limiter = KeyedRateLimiter.<String>builder(Limit.parse("5/s burst 5"))
        .clock(scripted).scheduler(clock).build();
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.tryAcquire("new", 1)).as("request %d of the burst", i + 1).isTrue();
    }
    assertThat(limiter.tryAcquire("new", 1)).isFalse();
  }

  @Test
  void rejectsInvalidUse() {
    LocalKeyedRateLimiter<String> limiter = builder("10/s").build();
    assertThatThrownBy(() -> limiter.tryAcquire(null, 1)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> limiter.tryAcquire("k", 11)).hasMessageContaining("exceeds the burst");
    assertThatThrownBy(() -> builder("10/s").maxKeys(0)).hasMessage("maxKeys must be at least 1, got 0");
  }

  @Test
  void manyThreadsOnManyKeysGetExactlyTheirShareEach() throws Exception {
    int keys = 50;
    Limit limit = Limit.parse("100/s burst 5");
    LocalKeyedRateLimiter<Integer> limiter = KeyedRateLimiter.<Integer>builder(limit).clock(clock).scheduler(clock).build();
    AtomicLongArray granted = new AtomicLongArray(keys);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 20; round++) {
        List<Future<?>> work = new ArrayList<>();
        for (int th = 0; th < 8; th++) {
          int seed = round * 8 + th;
          work.add(pool.submit(() -> {
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < 2000; i++) {
              int key = r.nextInt(keys);
              if (limiter.tryAcquire(key, 1)) {
                granted.incrementAndGet(key);
              }
            }
          }));
        }
        for (Future<?> w : work) {
          w.get(30, TimeUnit.SECONDS);
        }
        clock.advance(Duration.ofMillis(50)); // 5 tokens per key
      }
    } finally {
      pool.shutdownNow();
    }
    // 16,000 requests per round over 50 keys leave every bucket empty: 5 at the start plus 5 per round after.
    for (int k = 0; k < keys; k++) {
      assertThat(granted.get(k)).as("key %d", k).isEqualTo(5 + 19 * 5);
    }
  }
}
