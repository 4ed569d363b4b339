package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Eight threads on one limiter: the bound holds, no permit is lost, no waiter hangs. */
class ConcurrencyTest {

  private static final int THREADS = 8;
  private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * Threads spin on tryAcquire while the test moves a manual clock in steps. After each step exactly
   * burst + floor(rate * t) tokens have been granted: never more (the bound), and, since the threads never stop
   * asking, never fewer (nothing lost to a race).
   */
  @Test
  void hammeringThreadsGetExactlyWhatTheRateAllowsOnAManualClock() throws Exception {
    for (String text : new String[] {"1000/s burst 50", "7/s burst 3", "2/s burst 4 and 3/s burst 2", "8/s every 500ms"}) {
      ManualClock clock = new ManualClock(Long.MAX_VALUE - 1_000_000_000L);
      Limit limit = Limit.parse(text);
      RateLimiter limiter = RateLimiter.builder(limit).clock(clock).scheduler(clock).build();
      AtomicLong granted = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        workers.add(pool.submit(() -> {
          while (!stop.get()) {
            if (limiter.tryAcquire()) {
              granted.incrementAndGet();
            }
          }
        }));
      }
      SplittableRandom random = new SplittableRandom(42);
      ReferenceBucket reference = new ReferenceBucket(limit, BucketPropertiesTest.unixNow(clock));
      long t = 0;
      long expected = 0;
      for (int step = 0; step < 200; step++) {
        long d = step == 0 ? 0 : random.nextLong(1, 40_000_000);
        clock.advanceNanos(d);
        t += d;
        // Ask the reference how many single tokens a greedy caller gets by now.
        while (reference.decide(t, 1).isAllowed()) {
          expected++;
        }
        long want = expected;
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(20))
            .until(() -> granted.get() >= want);
        assertThat(granted.get()).as("%s after %d ns", text, t).isEqualTo(want);
      }
      stop.set(true);
      for (Future<?> w : workers) {
        w.get(10, TimeUnit.SECONDS);
      }
      assertThat(granted.get()).isEqualTo(expected);
    }
  }

  /**
   * Threads wait in acquire on the real clock; every one of them is served (none hangs, none is lost), and the
   * rate is never exceeded: the last permit cannot come before (N - burst) / rate has passed.
   */
  @Test
  void blockingWaitersOnTheRealClockAreAllServedAtTheRate() throws Exception {
    RateLimiter limiter = RateLimiter.of(Limit.parse("2000/s burst 20"));
    int perThread = 150;
    CountDownLatch done = new CountDownLatch(THREADS);
    AtomicLong served = new AtomicLong();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    for (int i = 0; i < THREADS; i++) {
      pool.submit(() -> {
        try {
          for (int j = 0; j < perThread; j++) {
            limiter.acquire();
            served.incrementAndGet();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (Throwable e) {
          failures.add(e);
        } finally {
          done.countDown();
        }
      });
    }
    assertThat(done.await(60, TimeUnit.SECONDS)).as("all waiters served").isTrue();
    long elapsed = System.nanoTime() - start;
    assertThat(failures).isEmpty();
    assertThat(served.get()).isEqualTo(THREADS * perThread);
    long minimum = (THREADS * perThread - 20) * 1_000_000_000L / 2000;
    assertThat(elapsed).as("at most burst + rate * t").isGreaterThanOrEqualTo(minimum);
  }

  /**
   * Threads reserve, cancel and wait asynchronously at random while the clock moves; afterwards every reservation
   * is either ready or cancelled, none hangs, the grants respect the bound, and the grants plus what is left in
   * the bucket account for every token produced.
   */
  @Test
  void asyncWaitersAndCancellationsFromManyThreadsLoseNothing() throws Exception {
    ManualClock clock = new ManualClock(0);
    Limit limit = Limit.parse("100/s burst 10");
    RateLimiter limiter = RateLimiter.builder(limit).clock(clock).scheduler(clock).build();
    ConcurrentLinkedQueue<Reservation> all = new ConcurrentLinkedQueue<>();
    AtomicLong grantedTokens = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<?>> workers = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) {
      int seed = i;
      workers.add(pool.submit(() -> {
        SplittableRandom r = new SplittableRandom(seed);
        List<Reservation> mine = new ArrayList<>();
        while (!stop.get()) {
          long cost = 1 + r.nextInt(3);
          switch (r.nextInt(4)) {
            case 0 -> {
              if (limiter.tryAcquire(cost)) {
                grantedTokens.addAndGet(cost);
              }
            }
            case 1, 2 -> {
              Reservation res = limiter.reserve(cost);
              res.whenReady().thenRun(() -> grantedTokens.addAndGet(cost));
              mine.add(res);
              all.add(res);
            }
            default -> {
              if (!mine.isEmpty()) {
                mine.remove(r.nextInt(mine.size())).cancel();
              }
            }
          }
          Thread.yield();
        }
      }));
    }
    for (int step = 0; step < 500; step++) {
      clock.advance(Duration.ofMillis(2));
    }
    stop.set(true);
    for (Future<?> w : workers) {
      w.get(10, TimeUnit.SECONDS);
    }
    // Let every waiter still queued through; the queue drains at the rate.
    clock.advance(Duration.ofDays(1));
    for (Reservation res : all) {
      CompletableFuture<Void> f = res.whenReady();
      assertThat(f.isDone()).as("no reservation hangs: %s", res).isTrue();
      assertThat(res.isReady() || f.isCancelled()).isTrue();
    }
    // Every token produced in the run is either granted or still in the (now full) bucket: produced = granted +
    // left, with produced = burst + rate * t.
    long elapsedNanos = Duration.ofDays(1).plusSeconds(1).toNanos();
    long produced = 10 + elapsedNanos / 10_000_000; // 100/s: one token per 10 ms
    long left = limiter.decide(10).isAllowed() ? 10 : -1;
    assertThat(left).as("the bucket is full again").isEqualTo(10);
    assertThat(grantedTokens.get() + left).isLessThanOrEqualTo(produced);
  }
  /**
   * The limit changed back and forth while threads take, reserve and cancel: nothing throws, no reservation hangs
   * or is lost (each is ready or cancelled), and the limiter ends on the last limit given.
   */
  @Test
  void changingTheLimitUnderLoadLosesNoWaiter() throws Exception {
    ManualClock clock = new ManualClock(0);
    Limit[] limits = {Limit.parse("100/s burst 10"), Limit.parse("300/s burst 5 and 1000/min"),
        Limit.parse("50/s burst 3"), Limit.parse("200/s every 20ms burst 4")};
    RateLimiter limiter = RateLimiter.builder(limits[0]).clock(clock).scheduler(clock).build();
    ConcurrentLinkedQueue<Reservation> all = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> thrown = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<?>> workers = new ArrayList<>();
    for (int i = 0; i < THREADS - 1; i++) {
      int seed = i;
      workers.add(pool.submit(() -> {
        SplittableRandom r = new SplittableRandom(seed);
        List<Reservation> mine = new ArrayList<>();
        while (!stop.get()) {
          try {
            switch (r.nextInt(5)) {
              case 0 -> limiter.tryAcquire(1 + r.nextInt(3));
              case 1 -> limiter.estimate(1);
              case 2, 3 -> {
                Reservation res = limiter.reserve(1 + r.nextInt(3));
                mine.add(res);
                all.add(res);
              }
              default -> {
                if (!mine.isEmpty()) {
                  mine.remove(r.nextInt(mine.size())).cancel();
                }
              }
            }
          } catch (IllegalArgumentException costAboveTheBurstOfNow) {
            // a cost valid a moment ago may exceed the burst of the limit changed meanwhile
          } catch (Throwable t) {
            thrown.add(t);
          }
          Thread.yield();
        }
      }));
    }
    int changes = 0;
    for (int step = 0; step < 400; step++) {
      clock.advance(Duration.ofMillis(2));
      try {
        limiter.changeLimit(limits[step % limits.length]);
        changes++;
      } catch (IllegalArgumentException waiterAboveTheNewBurst) {
        assertThat(waiterAboveTheNewBurst).hasMessageContaining("is waiting");
      }
    }
    stop.set(true);
    for (Future<?> w : workers) {
      w.get(10, TimeUnit.SECONDS);
    }
    assertThat(thrown).isEmpty();
    assertThat(changes).isPositive();
    limiter.changeLimit(limits[0]);
    clock.advance(Duration.ofDays(1));
    for (Reservation res : all) {
      CompletableFuture<Void> f = res.whenReady();
      assertThat(f.isDone()).as("no reservation hangs: %s", res).isTrue();
      assertThat(res.isReady() || f.isCancelled()).isTrue();
    }
    assertThat(limiter.limit()).isEqualTo(limits[0]);
    assertThat(limiter.available()).isEqualTo(10);
  }
}
