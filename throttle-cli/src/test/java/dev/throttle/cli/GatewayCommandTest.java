package dev.throttle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code throttle gateway}: usage and configuration errors (exit 2, naming the flag or the file and line), start-up
 * failures (exit 1), and a real run in a child JVM stopped by SIGTERM (exit 0).
 */
class GatewayCommandTest {

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedErr;
  private HttpServer upstream;

  @BeforeEach
  void setUp() throws IOException {
    savedErr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    upstream.createContext("/", ex -> {
      byte[] body = ("hello " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    upstream.start();
  }

  @AfterEach
  void tearDown() {
    System.setErr(savedErr);
    upstream.stop(0);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private String upstreamUri() {
    return "http://127.0.0.1:" + upstream.getAddress().getPort();
  }

  @Test
  void flagErrorsAreUsageErrorsNamingTheFlag() {
    assertThat(Main.execute("gateway", "--limit", "10/s")).isEqualTo(2);
    assertThat(err()).contains("--upstream is required");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/fortnight")).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: --limit: Invalid rule 'default': Invalid limit '10/fortnight'");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--mode", "delay"))
        .isEqualTo(2);
    assertThat(err()).contains("--mode delay needs --max-wait");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", "ftp://x", "--limit", "10/s")).isEqualTo(2);
    assertThat(err()).contains("--upstream: upstream must be http://host:port").contains("'ftp://x'");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--grace", "soon"))
        .isEqualTo(2);
    assertThat(err()).contains("'soon' is not a duration");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--store", "mongodb://x"))
        .isEqualTo(2);
    assertThat(err()).contains("--store: store must be 'memory' or a Redis URI").contains("'mongodb://x'");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--speed", "3")).isEqualTo(2);
    assertThat(err()).contains("Unknown option");
  }

  @Test
  void aBadConfigurationFileIsNamedWithItsLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("gw.yaml");
    Files.writeString(file, "upstream: " + upstreamUri() + "\nroutes:\n  - name: api\n    rules:\n"
        + "      - limit: 10/s\n        mode: sometimes\n");
    assertThat(Main.execute("gateway", "--config", file.toString())).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: " + file + ":6: mode must be reject or delay, got 'sometimes'");
    err.reset();
    assertThat(Main.execute("gateway", "--config", file.toString(), "--limit", "5/s")).isEqualTo(2);
    assertThat(err()).contains("--limit cannot be given with --config");
    err.reset();
    assertThat(Main.execute("gateway", "--config", dir.resolve("missing.yaml").toString())).isEqualTo(2);
    assertThat(err()).contains("missing.yaml: cannot read the configuration");
  }

  @Test
  void anAddressInUseOrAnUnreachableUpstreamCheckedAtStartIsAStartFailure() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--host", "127.0.0.1",
          "--port", Integer.toString(port), "--admin-port", "-1")).isEqualTo(1);
      assertThat(err()).contains("throttle gateway: cannot listen on the address 127.0.0.1:" + port
          + ": Address already in use");
    }
    err.reset();
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    assertThat(Main.execute("gateway", "--upstream", "http://127.0.0.1:" + closed, "--limit", "10/s",
        "--check-upstream", "--port", "0", "--admin-port", "-1")).isEqualTo(1);
    assertThat(err()).contains("the upstream http://127.0.0.1:" + closed + " does not accept connections");
  }

  /** Starts {@code throttle gateway args...} in a child JVM, killed if it still runs after a minute. */
  private static Process launch(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "gateway"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    // If it still runs after a minute its output ends, so that no read below waits forever.
    CompletableFuture.runAsync(p::destroyForcibly, CompletableFuture.delayedExecutor(60, TimeUnit.SECONDS));
    return p;
  }

  /** Reads the child's output (kept in {@code output}) up to the line saying where it listens. */
  private static Matcher awaitListening(BufferedReader out, List<String> output) throws IOException {
    Pattern listening =
        Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+),(.* admin http://127\\.0\\.0\\.1:(\\d+)/)?");
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      output.add(line);
      Matcher m = listening.matcher(line);
      if (m.find()) {
        return m;
      }
    }
    throw new AssertionError("the gateway did not start: " + output);
  }

  /** The gateway in its own JVM, as a user runs it: requests through it, then SIGTERM. */
  @Test
  void aRealRunStopsCleanlyOnSigterm() throws Exception {
    Process p = launch("--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--limit", "2/min", "--path",
        "/api", "--upstream", upstreamUri());
    List<String> output = new ArrayList<>();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      Matcher started = awaitListening(out, output);
      int port = Integer.parseInt(started.group(1));
      int admin = Integer.parseInt(started.group(3));
      HttpClient client = HttpClient.newHttpClient();
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        statuses.add(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/x")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode());
      }
      assertThat(statuses).containsExactly(200, 200, 429);
      String metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("throttle_gateway_requests_total{route=\"default\",rule=\"default\","
          + "outcome=\"refused\"} 1");

      p.toHandle().destroy(); // SIGTERM (Process.destroy would also close the output still to be read)
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        output.add(line);
      }
      assertThat(p.exitValue()).as("output: %s", output).isZero();
      assertThat(String.join("\n", output)).contains("gateway started listen=127.0.0.1:" + port)
          .contains("gateway stopping").contains("gateway stopped");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void anUnreachableUpstreamIsAWarningAnd502s() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    Process p = launch("--host", "127.0.0.1", "--port", "0", "--admin-port", "-1", "--limit", "10/s", "--upstream",
        "http://127.0.0.1:" + closed);
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      List<String> output = new ArrayList<>();
      int port = Integer.parseInt(awaitListening(out, output).group(1));
      assertThat(String.join("\n", output)).contains("the upstream http://127.0.0.1:" + closed
          + " does not accept connections").contains("starting anyway: requests get 502 until it does");
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + port + "/x")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(502);
      p.toHandle().destroy(); // SIGTERM
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isZero();
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void theRateLimitHeadersFlagChoosesTheFieldsSent() throws Exception {
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--rate-limit-headers",
        "draft-8")).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: --rate-limit-headers: rate-limit-headers must be one of draft-10, "
        + "draft-7, draft-6, legacy, none, got 'draft-8'");
    Process p = launch("--host", "127.0.0.1", "--port", "0", "--admin-port", "-1", "--limit", "5/min burst 3",
        "--rate-limit-headers", "draft-7", "--upstream", upstreamUri());
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      int port = Integer.parseInt(awaitListening(out, new ArrayList<>()).group(1));
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + port + "/x")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().allValues("RateLimit")).containsExactly("limit=3, remaining=2, reset=12");
      p.toHandle().destroy(); // SIGTERM
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
  }
}
