package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.http.Rule;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log: a line per answered request, in the documented format, written out when the gateway stops. */
class AccessLogTest extends GatewayTests {

  private static final Pattern LINE = Pattern.compile(
      "(\\S+) (\\S+) \"(\\S+) (.*) (HTTP/1\\.[01])\" (\\d{3}) (\\d+) (\\d+\\.\\d{6})");

  @TempDir
  Path dir;

  private Gateway start(Path log) {
    gateway = Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).noAdmin().upstream(upstream.uri())
        .eventLoops(1).grace(Duration.ofSeconds(1)).accessLog(log.toString())
        .route(new GatewayConfig.Route("api", List.of(Rule.builder("api").path("/api").limit("2/min").build())))
        .build());
    return gateway;
  }

  @Test
  void eachAnsweredRequestIsOneLineWithItsArrivalStatusAndDuration() throws Exception {
    Path log = dir.resolve("access.log");
    Instant before = Instant.now();
    int port = start(log).port();
    java.net.http.HttpResponse<String> first = Http.get(port, "/api/a");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(Http.get(port, "/api/b?x=1").statusCode()).isEqualTo(200);
    assertThat(Http.get(port, "/api/c").statusCode()).isEqualTo(429);
    // Refused for its backslash (not a URI character) by the HTTP decoder, which names such a request /bad-request.
    assertThat(Http.raw(port, "GET /other/a\\b HTTP/1.0\r\n\r\n").status()).isEqualTo(400);
    gateway.close();
    Instant after = Instant.now();

    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(4);
    Instant previous = before;
    String[][] expected = {{"/api/a", "HTTP/1.1", "200"}, {"/api/b?x=1", "HTTP/1.1", "200"},
        {"/api/c", "HTTP/1.1", "429"}, {"/bad-request", "HTTP/1.0", "400"}};
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = LINE.matcher(lines.get(i));
      assertThat(m.matches()).as("line %d: %s", i, lines.get(i)).isTrue();
      Instant arrival = Instant.parse(m.group(1));
      assertThat(arrival).isBetween(previous, after);
      previous = arrival;
      assertThat(m.group(2)).isEqualTo("127.0.0.1");
      assertThat(m.group(3)).isEqualTo("GET");
      assertThat(m.group(4)).isEqualTo(expected[i][0]);
      assertThat(m.group(5)).isEqualTo(expected[i][1]);
      assertThat(m.group(6)).isEqualTo(expected[i][2]);
      assertThat(Double.parseDouble(m.group(8))).isBetween(0.0, Duration.between(before, after).toNanos() / 1e9);
    }
    assertThat(Long.parseLong(LINE.matcher(lines.get(0)).results().findFirst().orElseThrow().group(7)))
        .as("the upstream's body").isEqualTo(first.body().getBytes(StandardCharsets.UTF_8).length);
    assertThat(lines.get(2)).as("a 429's problem body is counted").doesNotEndWith(" 0 0.000000");
  }

  @Test
  void aFileThatCannotBeOpenedIsAConfigErrorNamingIt() {
    Path missing = dir.resolve("no-such-dir").resolve("access.log");
    assertThatThrownBy(() -> start(missing)).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("access-log: cannot open '" + missing + "' for writing");
  }
}
