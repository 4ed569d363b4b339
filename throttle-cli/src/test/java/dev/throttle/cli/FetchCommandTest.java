package dev.throttle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.throttle.client.MockApi;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code throttle fetch} against the mock API on real sockets. */
class FetchCommandTest {

  @TempDir
  Path dir;

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedErr;

  @BeforeEach
  void capture() {
    savedErr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setErr(savedErr);
  }

  private static List<Map<String, Object>> readLines(Path file) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      out.add(JSON.std.mapFrom(line));
    }
    return out;
  }

  @Test
  void fetchesUrlsAndJsonLinesAndWritesOneResultPerLineInOrder() throws Exception {
    try (MockApi api = MockApi.builder(50).latency(Duration.ofMillis(20)).start()) {
      Path in = dir.resolve("in.txt");
      Files.writeString(in, String.join("\n",
          "# comment",
          api.uri().resolve("a").toString(),
          "",
          "{\"id\": \"second\", \"url\": \"" + api.uri().resolve("b") + "\", \"headers\": {\"X-Test\": \"1\"}}",
          "{\"id\": 7, \"method\": \"POST\", \"url\": \"" + api.uri().resolve("c") + "\", \"body\": \"{\\\"q\\\": \\\"é\\\"}\"}"
      ) + "\n");
      Path out = dir.resolve("out.jsonl");
      int code = Main.execute("fetch", in.toString(), "--rate", "50/s", "--output", out.toString(), "--no-progress");

      assertThat(code).isZero();
      List<Map<String, Object>> lines = readLines(out);
      assertThat(lines).extracting(m -> m.get("id")).containsExactly(2, "second", 7);
      assertThat(lines).allSatisfy(m -> {
        assertThat(m.get("status")).isEqualTo(200);
        assertThat(m.get("outcome")).isEqualTo("succeeded");
        assertThat(m.get("attempts")).isEqualTo(1);
        assertThat(m).containsKeys("url", "latency_ms", "body", "error");
        assertThat(m.get("error")).isNull();
      });
      assertThat((String) lines.get(0).get("body")).contains("\"path\":\"/a\"");
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("[3] requests processed in [");
    }
  }

  @Test
  void saveDirWritesBodiesToFiles() throws Exception {
    try (MockApi api = MockApi.builder(50).latency(Duration.ZERO).start()) {
      Path in = dir.resolve("in.txt");
      Files.writeString(in, "{\"id\": \"a/b c\", \"url\": \"" + api.uri().resolve("x") + "\"}\n");
      Path out = dir.resolve("out.jsonl");
      Path saved = dir.resolve("bodies");
      assertThat(Main.execute("fetch", in.toString(), "--rate", "10/s", "--output", out.toString(), "--save-dir",
          saved.toString(), "--no-progress")).isZero();
      Map<String, Object> line = readLines(out).get(0);
      assertThat(line).doesNotContainKey("body");
      assertThat(line.get("file")).isEqualTo(saved.resolve("1-a_b_c").toString());
      assertThat(Files.readString(saved.resolve("1-a_b_c"))).contains("\"ok\":true");
    }
  }

  @Test
  void someFailedExitsOne() throws Exception {
    Path in = dir.resolve("in.txt");
    // a port with nothing listening: connection refused
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Files.writeString(in, "http://127.0.0.1:" + port + "/nothing\n");
    Path out = dir.resolve("out.jsonl");
    assertThat(Main.execute("fetch", in.toString(), "--rate", "10/s", "--max-attempts", "2", "--output",
        out.toString(), "--no-progress")).isEqualTo(1);
    Map<String, Object> line = readLines(out).get(0);
    assertThat(line.get("outcome")).isEqualTo("failed");
    assertThat(line).containsKey("status");
    assertThat(line.get("status")).isNull();
    assertThat(line.get("attempts")).isEqualTo(2);
    assertThat((String) line.get("error")).contains("connection refused");
  }

  @Test
  void aBadInputLineIsAUsageErrorNamingTheLineAndNothingIsSent() throws Exception {
    try (MockApi api = MockApi.builder(10).latency(Duration.ZERO).start()) {
      Path in = dir.resolve("in.txt");
      Files.writeString(in, api.uri() + "\nftp://example/file\n");
      assertThat(Main.execute("fetch", in.toString(), "--rate", "10/s", "--no-progress")).isEqualTo(2);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("input line 2: 'ftp://example/file' is not an http or https URL with a host");
      assertThat(api.received()).isZero();

      Files.writeString(in, "{\"url\": \"" + api.uri() + "\", \"colour\": 1}\n");
      assertThat(Main.execute("fetch", in.toString(), "--rate", "10/s")).isEqualTo(2);
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("input line 1: unknown field 'colour'");

      Files.writeString(in, "{\"url\": \n");
      assertThat(Main.execute("fetch", in.toString(), "--rate", "10/s")).isEqualTo(2);
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("input line 1: not valid JSON");
    }
  }

  @Test
  void badFlagsAreUsageErrorsNamingThem() {
    assertThat(Main.execute("fetch", "--rate", "10/s", "--concurrency", "0", "x")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--concurrency must be at least 1, got 0");
    assertThat(Main.execute("fetch", "--rate", "10/s", "--timeout", "-1s", "x")).isEqualTo(2);
    assertThat(Main.execute("fetch", "--rate", "10/s", dir.resolve("missing.txt").toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("no such file");
    assertThat(Main.execute("fetch", "x")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("Missing required option: '--rate=<rate>'");
  }

  /**
   * The real process, stopped by Ctrl-C (SIGINT) or SIGTERM mid-batch: every input line still has its output line,
   * the summary line is printed and the exit code is 1, as the help says (before the fix: 130, no summary).
   */
  @ParameterizedTest
  @ValueSource(strings = {"INT", "TERM"})
  void aSignalMidBatchWritesTheRestAsCancelledPrintsTheSummaryAndExits1(String signal) throws Exception {
    try (MockApi api = MockApi.builder(100).latency(Duration.ofMillis(50)).start()) {
      Path in = dir.resolve("in.txt");
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < 40; i++) {
        sb.append(api.uri().resolve("s/" + i)).append('\n');
      }
      Files.writeString(in, sb);
      Path out = dir.resolve("out.jsonl");
      Path errFile = dir.resolve("err.txt");
      List<String> command = new ArrayList<>();
      if (envResetsSignals()) {
        // a shell may start background jobs with SIGINT ignored, and an ignored signal stays ignored across exec
        command.addAll(List.of("env", "--default-signal=INT,TERM"));
      }
      command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
          System.getProperty("java.class.path"), Main.class.getName(), "fetch", in.toString(), "--rate", "4/s",
          "--output", out.toString(), "--no-progress"));
      Process p = new ProcessBuilder(command).redirectError(errFile.toFile()).start();
      int exit;
      try {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
            .until(() -> api.served() >= 6);
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        exit = p.exitValue();
      } finally {
        p.destroyForcibly();
      }
      String err = Files.readString(errFile);
      assertThat(exit).as(err).isEqualTo(1);
      assertThat(err).contains("requests processed in").contains("cancelled");
      List<Map<String, Object>> lines = readLines(out);
      assertThat(lines).hasSize(40);
      assertThat(lines).extracting(m -> m.get("id")).containsExactlyElementsOf(
          java.util.stream.IntStream.rangeClosed(1, 40).boxed().toList());
      long cancelled = lines.stream().filter(m -> "cancelled".equals(m.get("outcome"))).count();
      long succeeded = lines.stream().filter(m -> "succeeded".equals(m.get("outcome"))).count();
      assertThat(cancelled).isGreaterThan(0);
      assertThat(succeeded + cancelled).isEqualTo(40);
    }
  }

  private static boolean envResetsSignals() {
    try {
      return new ProcessBuilder("env", "--default-signal=INT", "true").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
