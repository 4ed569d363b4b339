package dev.throttle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.throttle.bench.FetchAgainstServers.Arrival;
import dev.throttle.bench.FetchAgainstServers.Figures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The figures of the client section, on server logs made up to have known answers. */
class FetchAgainstServersTest {

  private static final long T0 = 1_796_236_082_000L;

  /** {@code n} 200s every {@code spacing} ms from {@code from} (ms after T0), URLs numbered from {@code firstId}. */
  private static List<Arrival> paced(int n, long from, long spacing, int firstId) {
    List<Arrival> a = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      a.add(new Arrival(T0 + from + i * spacing, 200, "/c/" + (firstId + i)));
    }
    return a;
  }

  @Test
  void aClientPacedAtTheRateHasGoodputOfTheRate() {
    Figures f = FetchAgainstServers.figures(paced(500, 0, 20, 1));
    assertThat(f.goodput()).isCloseTo(50, within(0.01));
    assertThat(f.refused()).isZero();
    assertThat(f.refusedShare()).isZero();
  }

  @Test
  void theInitialBurstIsLeftOutOfTheSteadyState() {
    List<Arrival> a = paced(50, 0, 0, 1); // 50 at once, then 50/s
    a.addAll(paced(450, 20, 20, 51));
    assertThat(FetchAgainstServers.figures(a).goodput()).isCloseTo(50, within(0.2));
  }

  @Test
  void refusalsCountAmongTheRequestsAndARetryPauseLowersTheGoodput() {
    List<Arrival> a = paced(250, 0, 20, 1);
    a.add(new Arrival(T0 + 2_010, 429, "/c/999"));
    a.add(new Arrival(T0 + 5_000 + 1_000, 200, "/c/999")); // retried a second after the rest were done
    Figures f = FetchAgainstServers.figures(a);
    assertThat(f.requests()).isEqualTo(252);
    assertThat(f.ok()).isEqualTo(251);
    assertThat(f.refused()).isEqualTo(1);
    assertThat(f.goodput()).isCloseTo(200 * 1000.0 / 5_000, within(0.01));
  }

  @Test
  void theArrivalIsTheEndMinusTheDuration() {
    List<Arrival> a = FetchAgainstServers.parseLog(List.of("1796236082.716 0.012 200 /x/3", "",
        "1796236082.720 0.000 429 /x/4"));
    assertThat(a).containsExactly(new Arrival(1_796_236_082_704L, 200, "/x/3"),
        new Arrival(1_796_236_082_720L, 429, "/x/4"));
    assertThatThrownBy(() -> FetchAgainstServers.parseLog(List.of("1796236082.716 200")))
        .hasMessageContaining("1796236082.716 200");
  }

  @Test
  void aResultIsLostWhenItsIdHasNoLine() {
    List<String> out = List.of("{\"id\":1,\"url\":\"http://h/1\",\"outcome\":\"succeeded\"}",
        "{\"id\":\"a,b\",\"url\":\"http://h/2\",\"outcome\":\"failed\"}",
        "{\"id\":1,\"url\":\"http://h/1\",\"outcome\":\"succeeded\"}");
    assertThat(FetchAgainstServers.lost(3, out)).isEqualTo(1);
    assertThat(FetchAgainstServers.outcomes(out)).containsEntry("succeeded", 2).containsEntry("failed", 1);
  }

  @Test
  void theDiagnosisShowsWhenThe429sCameAndHowLongTheRetryWaited() {
    List<Arrival> a = paced(100, 0, 20, 1);
    a.add(new Arrival(T0 + 1_005, 429, "/c/500")); // 5 ms after the 2xx at 1000
    a.add(new Arrival(T0 + 2_205, 200, "/c/500"));
    String d = FetchAgainstServers.diagnose(a, 50);
    assertThat(d).startsWith("1 x 429 at 1.01..1.01 s (0 in the first second)")
        .contains("ms since the previous 2xx: 5/5/5").contains("2xx in the 1 s before: 50/50/50")
        .contains("retried after ms: 1200/1200/1200").contains("longest 225 ms");
  }
}
