package dev.throttle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The two figures of the precision harness, on grant times made up to have known answers. */
class PrecisionTest {

  private static final long SECOND = 1_000_000_000L;

  /** Grants every {@code 1/rate} s from {@code offset}, for {@code seconds}. */
  private static long[] paced(long rate, long offset, int seconds) {
    return LongStream.range(0, rate * seconds).map(i -> offset + i * SECOND / rate).toArray();
  }

  /** {@code n} grants at the start of every second (within a microsecond), like a limiter with 1 s cycles. */
  private static long[] burstsEverySecond(int n, int seconds) {
    long[] stamps = new long[n * seconds];
    for (int s = 0; s < seconds; s++) {
      for (int i = 0; i < n; i++) {
        stamps[s * n + i] = s * SECOND + 37 + i;
      }
    }
    return stamps;
  }

  @Test
  void evenlyPacedGrantsGiveTheirRate() {
    for (long rate : new long[] {100, 1_000, 10_000}) {
      assertThat(Precision.achievedRate(paced(rate, 12_345, 10), 10 * SECOND)).as("rate %d", rate)
          .isCloseTo(rate, within(rate * 1e-6));
    }
  }

  @Test
  void oneGrantTooManyPerSecondIsSeen() {
    // 101 grants a second where 100 were meant: a 1% error, well above the resolution of the estimate.
    assertThat(Precision.achievedRate(paced(101, 0, 10), 10 * SECOND)).isCloseTo(101, within(0.01));
  }

  @Test
  void burstsOnceASecondGiveTheirAverageWhereverTheyFall() {
    // One window of whole seconds would count 8 or 9 bursts depending on where it starts; the average does not.
    assertThat(Precision.achievedRate(burstsEverySecond(100, 10), 10 * SECOND)).isCloseTo(100, within(1e-6));
  }

  @Test
  void quickRunsMeasureTheSameWay() {
    assertThat(Precision.achievedRate(paced(1_000, 500, 3), 2_000_000_000L)).isCloseTo(1_000, within(1e-3));
    assertThat(Precision.achievedRate(burstsEverySecond(100, 3), 2_000_000_000L)).isCloseTo(100, within(1e-6));
  }

  @Test
  void theLargestWindowCountsAHalfOpenSecond() {
    // Bursts exactly one second apart never share a window [t, t + 1 s).
    assertThat(Precision.maxInWindow(burstsEverySecond(100, 5), SECOND)).isEqualTo(100);
    // Evenly paced at 100/s: exactly 100 in any second.
    assertThat(Precision.maxInWindow(paced(100, 0, 5), SECOND)).isEqualTo(100);
  }

  @Test
  void twoBurstsLessThanASecondApartShareAWindow() {
    long[] stamps = new long[40];
    for (int i = 0; i < 20; i++) {
      stamps[i] = 10 + i;                    // 20 at the start
      stamps[20 + i] = SECOND - 100 + i;     // 20 just before one second
    }
    Arrays.sort(stamps);
    assertThat(Precision.maxInWindow(stamps, SECOND)).isEqualTo(40);
    assertThat(Precision.maxInWindow(new long[0], SECOND)).isZero();
  }
}
