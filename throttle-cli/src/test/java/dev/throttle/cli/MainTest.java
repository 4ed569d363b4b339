package dev.throttle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MainTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedOut;
  private PrintStream savedErr;

  @BeforeEach
  void capture() {
    savedOut = System.out;
    savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setOut(savedOut);
    System.setErr(savedErr);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpListsTheCommandsAndExitsZero() {
    assertThat(Main.execute("--help")).isZero();
    assertThat(out()).contains("Usage: throttle").contains("demo");
  }

  @Test
  void noCommandIsAUsageError() {
    assertThat(Main.execute()).isEqualTo(2);
    assertThat(err()).contains("Missing command");
  }

  @Test
  void anUnknownFlagIsAUsageErrorNamingIt() {
    assertThat(Main.execute("demo", "--speed", "3")).isEqualTo(2);
    assertThat(err()).contains("Unknown options: '--speed'");
  }

  @Test
  void helpListsFetchToo() {
    assertThat(Main.execute("--help")).isZero();
    assertThat(out()).contains("fetch");
  }

  @Test
  void anInvalidLimitIsAUsageErrorQuotingIt() {
    assertThat(Main.execute("fetch", "--rate", "10/fortnight")).isEqualTo(2);
    assertThat(err()).contains("--rate: Invalid limit '10/fortnight': unknown unit 'fortnight'");
  }

  @Test
  void anInvalidDurationIsAUsageErrorNamingTheFlag() {
    assertThat(Main.execute("demo", "--latency", "soon")).isEqualTo(2);
    assertThat(err()).contains("--latency").contains("'soon' is not a duration");
  }

  @Test
  void demoSettingsOutOfRangeAreUsageErrors() {
    assertThat(Main.execute("demo", "--allotted", "0")).isEqualTo(2);
    assertThat(err()).contains("--allotted must be at least 1 request per second, got 0");
  }

  @Test
  void demoRunsAndPrintsTheSeedsSummaryAndTheComparison() {
    assertThat(Main.execute("demo", "--requests", "60", "--allotted", "40", "--latency", "50ms")).isZero();
    assertThat(out())
        .contains("throttle demo: 60 requests to a mock API that allows 40 requests/s")
        .contains("[60] requests processed in [")
        .containsPattern("utilization \\d+\\.\\d % of what the API allows \\(40 rps, bursty: 0.55 s at best\\); \\d+ answered 429 by the API; 0 failed; 0 lost")
        .contains("learned: rate 40.00/s (configured)")
        .contains("The seeds' published results at 4 rps allotted: 3.14 rps (78 %)");
  }

  @Test
  void demoJsonHasTheFields() throws Exception {
    assertThat(Main.execute("demo", "--requests", "45", "--allotted", "30", "--latency", "20ms", "--json")).isZero();
    java.util.Map<String, Object> m = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(out().strip());
    assertThat(m).containsKeys("requests", "succeeded", "failed", "lost", "api_429", "elapsed_s", "throughput_rps",
        "allotted_rps", "utilization", "latency_ms");
    assertThat(m.get("requests")).isEqualTo(45);
    assertThat(m.get("succeeded")).isEqualTo(45);
    // after the burst of 30, 15 more at 30/s: at least half a second
    assertThat(((Number) m.get("elapsed_s")).doubleValue()).isGreaterThanOrEqualTo(0.5);
    assertThat(m.get("lost")).isEqualTo(0);
    assertThat(m.get("allotted_rps")).isEqualTo(30);
    // utilization = the shortest time the limit allows (15 after the burst at 30/s, plus 20 ms) / the time taken
    double elapsed = ((Number) m.get("elapsed_s")).doubleValue();
    assertThat(m.get("shortest_elapsed_s")).isEqualTo(0.52);
    assertThat(((Number) m.get("utilization")).doubleValue()).isCloseTo(0.52 / elapsed, org.assertj.core.data.Offset.offset(2e-3));
    assertThat(m).containsKeys("api", "learned");
    @SuppressWarnings("unchecked")
    java.util.Map<String, Object> latency = (java.util.Map<String, Object>) m.get("latency_ms");
    assertThat(latency).containsKeys("p50", "p90", "p99", "max");
  }
}
