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
  void anInvalidLimitIsAUsageErrorQuotingIt() {
    assertThat(Main.execute("demo", "--limit", "10/fortnight")).isEqualTo(2);
    assertThat(err()).contains("--limit: Invalid limit '10/fortnight': unknown unit 'fortnight'");
  }

  @Test
  void demoRunsAndReportsTheRate() {
    assertThat(Main.execute("demo", "--limit", "200/s burst 5", "--requests", "25", "--threads", "4")).isZero();
    assertThat(out()).contains("[25] acquisitions in [").contains("the burst of 5 at once, then 20 at");
  }
}
