package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.throttle.core.ManualClock;
import dev.throttle.core.Timeline;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class PacerTest {

  private final ManualClock clock = new ManualClock();

  @Test
  void aRefusalAtTheKeptRateWidensTheMarginOncePerRoundTripInsteadOfHalvingTheRate() {
    Pacer pacer = new Pacer(10, false, 1, clock, clock);
    assertThat(pacer.margin()).isEqualTo(Pacer.MARGIN_START);
    long sentBefore = clock.nanoTime();
    clock.advance(Duration.ofMillis(100));
    pacer.onRateLimited(sentBefore);
    assertThat(pacer.rate()).isEqualTo(10.0);
    assertThat(pacer.margin()).isCloseTo(0.01, within(1e-9));
    pacer.onRateLimited(sentBefore); // sent before the change: says nothing about the new spacing
    assertThat(pacer.margin()).isCloseTo(0.01, within(1e-9));
    for (int i = 0; i < 20; i++) {
      clock.advance(Duration.ofMillis(1));
      pacer.onRateLimited(clock.nanoTime());
    }
    assertThat(pacer.margin()).isEqualTo(Pacer.MARGIN_CAP);
    assertThat(pacer.rate()).isEqualTo(10.0); // never halved when not adaptive
  }

  @Test
  void theMarginNarrowsByATenthEachSecondWithoutARefusalAppliedAtTheNextGrant() {
    Pacer pacer = new Pacer(10, false, 1, clock, clock);
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMillis(1));
      pacer.onRateLimited(clock.nanoTime());
    }
    assertThat(pacer.margin()).isCloseTo(0.03, within(1e-9));
    clock.advance(Duration.ofSeconds(1));
    pacer.onSuccess();
    assertThat(pacer.margin()).isCloseTo(0.03, within(1e-9)); // pending until a send is granted
    pacer.acquire();
    clock.advance(Duration.ofMillis(200));
    assertThat(pacer.margin()).isCloseTo(0.027, within(1e-9));
  }

  @Test
  void adaptiveHalvesOnlyOnceTheMarginCannotExplainTheRefusals() {
    Pacer pacer = new Pacer(100, true, 1, clock, clock);
    int refusals = 0;
    while (pacer.rate() == 100.0) {
      clock.advance(Duration.ofMillis(1));
      pacer.onRateLimited(clock.nanoTime());
      refusals++;
    }
    assertThat(refusals).isEqualTo(20); // 19 widenings to the cap, then the halving
    assertThat(pacer.rate()).isEqualTo(50.0);
    clock.advance(Duration.ofSeconds(1));
    pacer.onSuccess();
    pacer.acquire();
    clock.advance(Duration.ofMillis(100));
    assertThat(pacer.rate()).isEqualTo(55.0); // a twentieth of the ceiling a second
  }

  @Test
  void withoutACeilingItStartsSlowlyAndTheFirstRefusalSetsIt() {
    Pacer pacer = new Pacer(Double.NaN, true, 1, clock, clock);
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofSeconds(1));
      pacer.onSuccess();
      pacer.acquire();
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(pacer.rate()).isCloseTo(Math.pow(1.25, 10), within(1e-6));
    clock.advance(Duration.ofMillis(1));
    pacer.onRateLimited(clock.nanoTime());
    assertThat(pacer.rate()).isCloseTo(Math.pow(1.25, 9), within(1e-6)); // the rate before the last increase
  }

  @Test
  void aPublishedRateBecomesTheRateAtOnce() {
    Pacer pacer = new Pacer(Double.NaN, true, 1, clock, clock);
    pacer.learnRate(50);
    assertThat(pacer.rate()).isEqualTo(25.0); // adaptive: from half of it, climbing
    Pacer fixed = new Pacer(10, false, 1, clock, clock);
    fixed.learnRate(8);
    assertThat(fixed.rate()).isEqualTo(8.0);
  }

  @Test
  void pacesOneByOneWithTheMarginAndMovesWaitersInOrderWhenItChanges() {
    Pacer pacer = new Pacer(10, false, 1, clock, clock);
    Timeline timeline = new Timeline(clock);
    for (int i = 1; i <= 4; i++) {
      String name = "W" + i;
      pacer.acquire().thenRun(() -> timeline.record(name));
    }
    assertThat(pacer.intervalNanos()).isEqualTo(100_000_000L);
    assertThat(pacer.spacingNanos()).isEqualTo(100_500_000L);
    clock.advance(Duration.ofMillis(101)); // 10/s with 0.5 %: W1 at once, W2 after 100.5 ms
    timeline.assertEvents("W1 at 0.000000000", "W2 at 0.100500000");
    pacer.onRateLimited(clock.nanoTime()); // 1 %: 101 ms from now on, starting empty
    assertThat(pacer.spacingNanos()).isEqualTo(101_000_000L);
    clock.advance(Duration.ofSeconds(1));
    timeline.assertEvents("W3 at 0.202000000", "W4 at 0.303000000");
  }

  @Test
  void aCancelledWaiterLeavesNoTrace() {
    Pacer pacer = new Pacer(10, false, 1, clock, clock);
    pacer.acquire();
    CompletableFuture<Void> second = pacer.acquire();
    CompletableFuture<Void> third = pacer.acquire();
    second.cancel(false);
    pacer.onRateLimited(clock.nanoTime()); // moves only the waiter still waiting; 101 ms from now
    clock.advance(Duration.ofMillis(100));
    assertThat(third).isNotDone();
    clock.advance(Duration.ofMillis(1));
    assertThat(third).isDone();
    assertThat(second).isCancelled();
  }
}
