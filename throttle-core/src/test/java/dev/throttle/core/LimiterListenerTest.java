package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@link LimiterListener}: every request ends in exactly one event, with its cost and wait, on a manual clock. */
class LimiterListenerTest {

  private final ManualClock clock = new ManualClock();

  /** Records events as "allowed 1", "refused 1 wait 500ms", ... */
  static final class Recorder implements LimiterListener {
    final List<String> events = new ArrayList<>();

    @Override
    public synchronized void onAllowed(long cost) {
      events.add("allowed " + cost);
    }

    @Override
    public synchronized void onRefused(long cost, long waitNanos) {
      events.add("refused " + cost + " wait " + waitNanos / 1_000_000 + "ms");
    }

    @Override
    public synchronized void onWaited(long cost, long waitNanos) {
      events.add("waited " + cost + " " + waitNanos / 1_000_000 + "ms");
    }

    @Override
    public synchronized void onCancelled(long cost) {
      events.add("cancelled " + cost);
    }
  }

  @Test
  void aLimiterTellsAllowedRefusedWaitedAndCancelled() {
    Recorder r = new Recorder();
    RateLimiter limiter = LimiterListener.observing(
        RateLimiter.builder(Limit.parse("2/s burst 2")).clock(clock).scheduler(clock).build(), r);

    assertThat(limiter.tryAcquire()).isTrue();
    assertThat(limiter.decide(1).isAllowed()).isTrue();
    assertThat(limiter.tryAcquire()).isFalse(); // empty: the next token in 500 ms
    assertThat(limiter.reserve(2, Duration.ofMillis(100)).isGranted()).isFalse(); // would wait 1 s
    Reservation waiting = limiter.reserve(1);
    CompletableFuture<Void> cancelled = limiter.acquireAsync(1);
    assertThat(r.events).containsExactly("allowed 1", "allowed 1", "refused 1 wait 500ms", "refused 2 wait 1000ms");

    cancelled.cancel(false); // gives its place up before its time
    clock.advance(Duration.ofMillis(500));
    clock.runDueTasks();
    assertThat(waiting.isReady()).isTrue();
    assertThat(r.events).containsExactly("allowed 1", "allowed 1", "refused 1 wait 500ms", "refused 2 wait 1000ms",
        "cancelled 1", "waited 1 500ms");
  }

  @Test
  void aStoreTellsTheSameForEveryKey() {
    Recorder r = new Recorder();
    KeyedRateLimiter<String> keyed =
        KeyedRateLimiter.<String>builder(Limit.parse("1/s burst 1")).clock(clock).scheduler(clock).build();
    KeyedRateLimiter<String> store = LimiterListener.observing(keyed, r);

    assertThat(store.decide("a", 1).isAllowed()).isTrue();
    assertThat(store.decideAsync("b", 1).join().isAllowed()).isTrue();
    assertThat(store.decide("a", 1).isAllowed()).isFalse();
    Reservation waiting = store.reserveAsync("a", 1, Duration.ofSeconds(2)).join();
    Reservation given = store.reserve("b", 1, Duration.ofSeconds(2));
    assertThat(given.cancel()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    clock.runDueTasks();

    assertThat(waiting.isReady()).isTrue();
    assertThat(r.events).containsExactly("allowed 1", "allowed 1", "refused 1 wait 1000ms", "cancelled 1",
        "waited 1 1000ms");
    assertThat(store.limit()).isEqualTo(keyed.limit());
  }

  @Test
  void theWrappedLimiterIsTheSameLimiter() {
    Recorder r = new Recorder();
    RateLimiter inner = RateLimiter.builder(Limit.parse("1/s")).clock(clock).scheduler(clock).build();
    RateLimiter observed = LimiterListener.observing(inner, r);
    assertThat(inner.tryAcquire()).isTrue(); // taken around the listener: not told, but the same bucket
    assertThat(observed.tryAcquire()).isFalse();
    assertThat(observed.available()).isZero();
    assertThat(r.events).containsExactly("refused 1 wait 1000ms");
  }
}
