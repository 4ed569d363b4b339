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

  @Test
  void outOfRangePortsAreUsageErrorsNamingTheFlagOrTheLine(@TempDir Path dir) throws IOException {
    assertThat(Main.execute("gateway", "--upstream", "http://127.0.0.1:99999", "--limit", "10/s")).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: --upstream: upstream must be http://host:port")
        .contains("'http://127.0.0.1:99999'").contains("the port must be from 1 to 65535");
    err.reset();
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--store",
        "redis://127.0.0.1:99999")).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: --store: store 'redis://127.0.0.1:99999': the port must be from 1"
        + " to 65535, got '99999'");
    err.reset();
    Path file = dir.resolve("gw.yaml");
    Files.writeString(file, "upstream: " + upstreamUri() + "\nstore: redis-cluster://a:7000,b:70000\nroutes:\n"
        + "  - rules:\n      - limit: 10/s\n");
    assertThat(Main.execute("gateway", "--config", file.toString())).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: " + file + ":2: store 'redis-cluster://a:7000,b:70000': the port"
        + " must be from 1 to 65535, got '70000'");
    err.reset();
    Files.writeString(file, "upstream: http://127.0.0.1:99999\nroutes:\n  - rules:\n      - limit: 10/s\n");
    assertThat(Main.execute("gateway", "--config", file.toString())).isEqualTo(2);
    assertThat(err()).contains(file + ":1: upstream must be http://host:port");
    assertThat(err()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void aRouteThatCanNeverMatchAndUnicodeDigitsAreRefused(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("gw.yaml");
    Files.writeString(file, "upstream: " + upstreamUri() + "\nroutes:\n"
        + "  - name: a\n    path: /api\n    methods: [GET]\n    rules:\n      - limit: 10/s\n"
        + "  - name: b\n    path: /api\n    methods: [GET]\n    rules:\n      - limit: 20/s\n");
    assertThat(Main.execute("gateway", "--config", file.toString())).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: " + file + ":8: route 'b' (path /api, GET) can never match: route"
        + " 'a' before it (path /api, GET) covers every request it would");
    err.reset();
    for (String limit : List.of("\uff11\uff10/s", "\u0661\u0660/s")) { // fullwidth and Arabic-Indic 10
      assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", limit)).isEqualTo(2);
      assertThat(err()).contains("--limit: Invalid rule 'default': Invalid limit '" + limit + "'");
      err.reset();
    }
  }

  @Test
  void aGrammarErrorIsOneMessageNotTheWholeUsage() {
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--max-wait", "soon"))
        .isEqualTo(2);
    assertThat(err()).contains("'soon' is not a duration").contains("throttle gateway --help")
        .doesNotContain("Usage:").doesNotContain("--check-upstream");
  }

  @Test
  void anAdminPortInUseNamesTheFlagThatChangesIt() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--host", "127.0.0.1",
          "--port", "0", "--admin-port", Integer.toString(port))).isEqualTo(1);
      assertThat(err()).contains("throttle gateway: cannot listen on the admin address 127.0.0.1:" + port
          + ": Address already in use; choose another with --admin-port");
    }
    assertThat(dev.throttle.gateway.GatewayConfig.DEFAULT_ADMIN_PORT).as("not Prometheus's 9090")
        .isNotIn(9090, 9091, 9093, 9901).matches(p -> p < 9100 || p > 9999, "outside the exporters' 9100-9999");
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
      // Micrometer's Prometheus registry: labels in alphabetical order, values as floats
      assertThat(metrics).contains("throttle_gateway_requests_total{outcome=\"refused\",route=\"default\","
          + "rule=\"default\"} 1.0");

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

  /** SIGHUP re-reads the file: a new limit applies; a file with an error is refused and the old one stays. */
  @Test
  void sighupReloadsTheConfigurationFileAndRefusesABadOne(@TempDir Path dir) throws Exception {
    reloadsTheFileAndRefusesABadOne(dir, new String[0], "SIGHUP reloads %s", GatewayCommandTest::hangUp);
  }

  /** With --watch, writing the file reloads it without a signal, as SIGHUP does. */
  @Test
  void watchReloadsTheConfigurationFileWhenItChanges(@TempDir Path dir) throws Exception {
    reloadsTheFileAndRefusesABadOne(dir, new String[] {"--watch"}, "SIGHUP reloads %s, and so does a change to it",
        p -> { });
  }

  /** What makes the gateway of {@code p} read its file again, after the file was written. */
  private interface Trigger {
    void after(Process p) throws Exception;
  }

  /**
   * A gateway with {@code --config} (and {@code flags}): a new limit applies after {@code trigger}; then a file with
   * an error is refused and the limit in force stays, its bucket too.
   */
  private void reloadsTheFileAndRefusesABadOne(Path dir, String[] flags, String listening, Trigger trigger)
      throws Exception {
    Path file = dir.resolve("gw.yaml");
    String head = "listen: 127.0.0.1:0\nadmin: off\nupstream: " + upstreamUri() + "\nroutes:\n  - name: api\n"
        + "    rules:\n      - limit: ";
    Files.writeString(file, head + "1/min\n");
    List<String> args = new ArrayList<>(List.of("--config", file.toString()));
    args.addAll(List.of(flags));
    Process p = launch(args.toArray(String[]::new));
    List<String> output = new ArrayList<>();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      int port = Integer.parseInt(awaitListening(out, output).group(1));
      assertThat(output.get(output.size() - 1)).endsWith(String.format(listening, file));
      HttpClient client = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + port + "/x");
      assertThat(client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(200);
      assertThat(client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(429);

      Files.writeString(file, head + "3/min\n");
      trigger.after(p);
      assertThat(awaitLine(out, output, "throttle gateway: reload")).isEqualTo("throttle gateway: reloaded "
          + file + ": kept=[] restarted=[api] added=[] removed=[]");
      HttpResponse<String> after = client.send(HttpRequest.newBuilder(uri).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(after.statusCode()).isEqualTo(200);
      assertThat(after.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=3;w=60");

      Files.writeString(file, head + "3/fortnight\n");
      trigger.after(p);
      assertThat(awaitLine(out, output, "throttle gateway: reload")).startsWith("throttle gateway: reload of "
          + file + " refused, the configuration in force is unchanged: ").contains("3/fortnight");
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        statuses.add(r.statusCode());
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=3;w=60");
      }
      assertThat(statuses).as("the 3/min bucket, 2 tokens left").containsExactly(200, 200, 429);

      p.toHandle().destroy(); // SIGTERM
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("output: %s", output).isZero();
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void watchWithoutAConfigurationFileIsAUsageError() {
    assertThat(Main.execute("gateway", "--upstream", upstreamUri(), "--limit", "10/s", "--watch")).isEqualTo(2);
    assertThat(err()).contains("throttle gateway: --watch: it watches the file of --config FILE, and none was given");
  }

  private static void hangUp(Process p) throws Exception {
    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  /** Reads the child's output up to the first line that starts with {@code prefix}, and returns it. */
  private static String awaitLine(BufferedReader out, List<String> output, String prefix) throws IOException {
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      output.add(line);
      if (line.startsWith(prefix)) {
        return line;
      }
    }
    throw new AssertionError("no line starting with '" + prefix + "': " + output);
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

  /**
   * The same rule given as flags and as a YAML file resolves the same key for the same request: one place (the
   * rule's builder) turns a rule's key setting and the trusted proxies into a key resolver, for both.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "key {0}, forwarded-header {1}")
  @org.junit.jupiter.params.provider.CsvSource(nullValues = "none", value = {
      "none, none", "ip, none", "none, Forwarded", "ip, Forwarded", "header:X-API-Key|ip, none", "ip+path, none",
      "all, none"})
  void flagsAndTheFileMakeTheSameKeys(String key, String forwardedHeader) {
    List<String> flags = new ArrayList<>(List.of("--upstream", "http://127.0.0.1:9", "--limit", "5/s",
        "--trusted-proxies", "10.0.0.0/8"));
    StringBuilder yaml = new StringBuilder("upstream: http://127.0.0.1:9\ntrusted-proxies: [10.0.0.0/8]\n");
    if (forwardedHeader != null) {
      flags.addAll(List.of("--forwarded-header", forwardedHeader));
      yaml.append("forwarded-header: ").append(forwardedHeader).append('\n');
    }
    yaml.append("routes:\n  - name: default\n    rules:\n      - limit: 5/s\n");
    if (key != null) {
      flags.addAll(List.of("--key", key));
      yaml.append("        key: '").append(key).append("'\n");
    }
    picocli.CommandLine cl = new picocli.CommandLine(new GatewayCommand());
    cl.parseArgs(flags.toArray(String[]::new));
    dev.throttle.gateway.GatewayConfig fromFlags = ((GatewayCommand) cl.getCommand()).fromFlags();
    dev.throttle.gateway.GatewayConfig fromFile = dev.throttle.gateway.GatewayConfig.parse(yaml.toString(), "g.yaml");
    dev.throttle.http.KeyResolver a = fromFlags.routes().get(0).rules().get(0).key();
    dev.throttle.http.KeyResolver b = fromFile.routes().get(0).rules().get(0).key();
    List<View> requests = List.of(
        new View("10.1.2.3", "/a", java.util.Map.of("X-Forwarded-For", "203.0.113.5")),
        new View("10.1.2.3", "/a", java.util.Map.of("Forwarded", "for=203.0.113.6")),
        new View("198.51.100.1", "/b", java.util.Map.of("X-Forwarded-For", "203.0.113.5")),
        new View("10.1.2.3", "/c", java.util.Map.of("X-API-Key", "k1", "X-Forwarded-For", "203.0.113.7")),
        new View("198.51.100.2", "/d", java.util.Map.of()));
    List<String> keysFromFlags = requests.stream().map(a::resolve).toList();
    assertThat(requests.stream().map(b::resolve).toList()).isEqualTo(keysFromFlags);
    if (key == null || key.equals("ip")) {
      // Through the trusted proxy, the client it names: never the proxy's own address.
      assertThat(keysFromFlags.get(forwardedHeader == null ? 0 : 1)).doesNotContain("10.1.2.3");
    }
  }

  /** A request as the rules see it. */
  private record View(String remoteAddress, String path, java.util.Map<String, String> fields)
      implements dev.throttle.http.RequestView {
    @Override
    public String method() {
      return "GET";
    }

    @Override
    public List<String> headers(String name) {
      return fields.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(java.util.Map.Entry::getValue)
          .toList();
    }

    @Override
    public String principal() {
      return null;
    }
  }
}
