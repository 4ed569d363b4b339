package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.ManualClock;
import dev.throttle.core.Timeline;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class AdaptiveRateTest {

  private final ManualClock clock = new ManualClock();

  @Test
  void halvesOnA429OncePerRoundTripAndClimbsBackSlowly() {
    AdaptiveRate rate = new AdaptiveRate(10, clock, clock);
    long sentBefore = clock.nanoTime();
    clock.advance(Duration.ofMillis(100));
    rate.onRateLimited(sentBefore);
    assertThat(rate.rate()).isEqualTo(5.0);
    // Another 429 for a request sent before the decrease says nothing about the new rate.
    rate.onRateLimited(sentBefore);
    assertThat(rate.rate()).isEqualTo(5.0);
    clock.advance(Duration.ofMillis(10));
    rate.onRateLimited(clock.nanoTime());
    assertThat(rate.rate()).isEqualTo(2.5);

    rate.onSuccess(); // less than a second since the last change
    assertThat(rate.rate()).isEqualTo(2.5);
    clock.advance(Duration.ofSeconds(1));
    rate.onSuccess();
    assertThat(rate.rate()).isEqualTo(3.0);
    for (int i = 0; i < 40; i++) {
      clock.advance(Duration.ofSeconds(1));
      rate.onSuccess();
    }
    assertThat(rate.rate()).isEqualTo(10.0); // back to the ceiling, not above
  }

  @Test
  void neverBelowAHundredthOfTheCeiling() {
    AdaptiveRate rate = new AdaptiveRate(100, clock, clock);
    for (int i = 0; i < 30; i++) {
      clock.advance(Duration.ofMillis(1));
      rate.onRateLimited(clock.nanoTime());
    }
    assertThat(rate.rate()).isEqualTo(1.0);
  }

  @Test
  void pacesAtTheCurrentRateAndMovesWaitersInOrderWhenItChanges() {
    AdaptiveRate rate = new AdaptiveRate(10, clock, clock);
    Timeline timeline = new Timeline(clock);
    for (int i = 1; i <= 4; i++) {
      String name = "W" + i;
      rate.acquire().thenRun(() -> timeline.record(name));
    }
    clock.advance(Duration.ofMillis(100)); // 10/s, burst 1: W1 at once, W2 after 100 ms
    timeline.assertEvents("W1 at 0.000000000", "W2 at 0.100000000");
    rate.onRateLimited(clock.nanoTime()); // 5/s from now on, starting empty: W3 at 0.3, W4 at 0.5
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("W3 at 0.300000000", "W4 at 0.500000000");
  }

  @Test
  void aCancelledWaiterLeavesNoTrace() {
    AdaptiveRate rate = new AdaptiveRate(10, clock, clock);
    rate.acquire();
    CompletableFuture<Void> second = rate.acquire();
    CompletableFuture<Void> third = rate.acquire();
    second.cancel(false);
    rate.onRateLimited(clock.nanoTime()); // moves only the waiter still waiting
    clock.advance(Duration.ofMillis(199));
    assertThat(third).isNotDone();
    clock.advance(Duration.ofMillis(1));
    assertThat(third).isDone();
    assertThat(second).isCancelled();
  }
}
