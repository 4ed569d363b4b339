package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ConcurrencyLimiterTest {

  @Test
  void allowsAtMostNInFlight() {
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(2);
    Optional<ConcurrencyLimiter.Permit> a = limiter.tryAcquire();
    Optional<ConcurrencyLimiter.Permit> b = limiter.tryAcquire();
    assertThat(a).isPresent();
    assertThat(b).isPresent();
    assertThat(limiter.tryAcquire()).isEmpty();
    assertThat(limiter.inFlight()).isEqualTo(2);
    a.get().close();
    a.get().close(); // closing twice releases once
    assertThat(limiter.inFlight()).isEqualTo(1);
    assertThat(limiter.tryAcquire()).isPresent();
    assertThat(limiter.tryAcquire()).isEmpty();
  }

  @Test
  void waitersAreServedInOrderAndNobodyBargesIn() {
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(1);
    ConcurrencyLimiter.Permit held = limiter.tryAcquire().orElseThrow();
    CompletableFuture<ConcurrencyLimiter.Permit> first = limiter.acquireAsync();
    CompletableFuture<ConcurrencyLimiter.Permit> second = limiter.acquireAsync();
    held.close();
    assertThat(first).isCompleted();
    assertThat(second).isNotDone();
    assertThat(limiter.tryAcquire()).as("no barging while someone waits").isEmpty();
    first.join().close();
    assertThat(second).isCompleted();
    second.join().close();
    assertThat(limiter.inFlight()).isZero();
  }

  @Test
  void aCancelledOrTimedOutWaiterLosesNoPermit() {
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(1);
    ConcurrencyLimiter.Permit held = limiter.tryAcquire().orElseThrow();
    CompletableFuture<ConcurrencyLimiter.Permit> cancelled = limiter.acquireAsync();
    CompletableFuture<ConcurrencyLimiter.Permit> timedOut = limiter.acquireAsync();
    CompletableFuture<ConcurrencyLimiter.Permit> last = limiter.acquireAsync();
    assertThat(cancelled.cancel(true)).isTrue();
    timedOut.completeExceptionally(new java.util.concurrent.TimeoutException());
    assertThat(limiter.waiting()).isEqualTo(1);
    held.close();
    assertThat(last).isCompleted();
    last.join().close();
    assertThat(limiter.inFlight()).isZero();
  }

  @Test
  void blockingAcquireWithATimeoutGivesUpItsPlace() throws Exception {
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(1);
    ConcurrencyLimiter.Permit held = limiter.tryAcquire().orElseThrow();
    assertThat(limiter.tryAcquire(Duration.ofMillis(20))).isEmpty();
    assertThat(limiter.waiting()).isZero();
    held.close();
    assertThat(limiter.tryAcquire(Duration.ofMillis(20))).isPresent();
  }

  @Test
  void anInterruptedAcquireGivesUpItsPlace() throws Exception {
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(1);
    ConcurrencyLimiter.Permit held = limiter.tryAcquire().orElseThrow();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread waiter = new Thread(() -> {
      try {
        limiter.acquire();
      } catch (Throwable e) {
        thrown.set(e);
      }
    });
    waiter.start();
    await().until(() -> limiter.waiting() == 1);
    waiter.interrupt();
    waiter.join(10_000);
    assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    assertThat(limiter.waiting()).isZero();
    held.close();
    assertThat(limiter.inFlight()).isZero();
  }

  @Test
  void rejectsAnInvalidSize() {
    assertThatThrownBy(() -> ConcurrencyLimiter.of(0)).hasMessage("the number in flight must be at least 1, got 0");
  }

  @Test
  void manyThreadsNeverExceedTheLimitAndLoseNoPermit() throws Exception {
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(3);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int seed = t;
        work.add(pool.submit(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          for (int i = 0; i < 2000; i++) {
            CompletableFuture<ConcurrencyLimiter.Permit> f = limiter.acquireAsync();
            if (r.nextInt(4) == 0 && f.cancel(false)) {
              continue;
            }
            try (ConcurrencyLimiter.Permit p = f.join()) {
              int now = inside.incrementAndGet();
              maxInside.accumulateAndGet(now, Math::max);
              inside.decrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> w : work) {
        w.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(maxInside.get()).isLessThanOrEqualTo(3);
    assertThat(limiter.inFlight()).isZero();
    assertThat(limiter.waiting()).isZero();
    assertThat(limiter.tryAcquire(Duration.ZERO)).isPresent();
  }
}
