package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.Reservation;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One key of a store as the client's limiter: waits without blocking, outlasts refusals, gives up its place. */
class StoreLimiterTest {

  private final ManualClock clock = new ManualClock();
  private final KeyedRateLimiter<String> keyed = KeyedRateLimiter.<String>builder(Limit.parse("1/s burst 1"))
      .clock(clock).scheduler(clock).build();
  private final AtomicInteger refusalsLeft = new AtomicInteger();

  /** The in-process store, refusing (as a fail-closed policy does, with a wait of 200 ms) while told to. */
  private final KeyedRateLimiter<String> store = new KeyedRateLimiter<>() {
    @Override
    public Limit limit() {
      return keyed.limit();
    }

    @Override
    public Decision decide(String key, long cost) {
      return keyed.decide(key, cost);
    }

    @Override
    public Decision estimate(String key, long cost) {
      return keyed.estimate(key, cost);
    }

    @Override
    public Reservation reserve(String key, long cost, Duration maxWait) {
      return keyed.reserve(key, cost, maxWait);
    }

    @Override
    public CompletableFuture<Decision> decideAsync(String key, long cost) {
      return keyed.decideAsync(key, cost);
    }

    @Override
    public CompletableFuture<Decision> estimateAsync(String key, long cost) {
      return keyed.estimateAsync(key, cost);
    }

    @Override
    public CompletableFuture<Reservation> reserveAsync(String key, long cost, Duration maxWait) {
      if (refusalsLeft.getAndDecrement() > 0) {
        return CompletableFuture.completedFuture(Reservation.notGranted(Decision.refused(0, 200_000_000L, 0)));
      }
      return keyed.reserveAsync(key, cost, maxWait);
    }

    @Override
    public Cancellation cancellation() {
      return keyed.cancellation();
    }

    @Override
    public Stats stats() {
      return keyed.stats();
    }
  };

  private final StoreLimiter<String> limiter = new StoreLimiter<>(store, "k", clock);

  @Test
  void waitsForItsTurnWithoutBlockingAndInOrder() {
    CompletableFuture<Void> first = limiter.acquireAsync(1);
    CompletableFuture<Void> second = limiter.acquireAsync(1);
    assertThat(first).isCompleted();
    assertThat(second).isNotDone();
    clock.advance(Duration.ofMillis(999));
    assertThat(second).isNotDone();
    clock.advance(Duration.ofMillis(1));
    assertThat(second).isCompleted();
  }

  @Test
  void aRefusalIsAskedAgainAfterTheWaitItNames() {
    refusalsLeft.set(2);
    CompletableFuture<Void> f = limiter.acquireAsync(1);
    assertThat(f).isNotDone();
    clock.advance(Duration.ofMillis(199));
    assertThat(f).isNotDone();
    clock.advance(Duration.ofMillis(1)); // asked again: refused again
    assertThat(f).isNotDone();
    clock.advance(Duration.ofMillis(200)); // asked again: granted
    assertThat(f).isCompleted();
  }

  @Test
  void cancellingGivesThePlaceUp() {
    assertThat(limiter.acquireAsync(1)).isCompleted();
    CompletableFuture<Void> waiting = limiter.acquireAsync(1);
    assertThat(waiting.cancel(false)).isTrue();
    assertThat(clock.pendingTasks()).isZero();
    clock.advance(Duration.ofSeconds(1));
    assertThat(keyed.available("k")).as("the cancelled one took nothing").isEqualTo(1);

    refusalsLeft.set(1);
    CompletableFuture<Void> retrying = limiter.acquireAsync(1);
    assertThat(retrying.cancel(false)).isTrue();
    assertThat(clock.pendingTasks()).as("its retry is cancelled too").isZero();
  }
}
