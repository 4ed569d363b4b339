package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.Rule;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code /health} and {@code /metrics} on the admin port, after real traffic. */
class AdminTest extends GatewayTests {

  @Test
  void healthAndMetricsTellWhatHappened() {
    gateway = Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).admin("127.0.0.1", 0)
        .upstream(upstream.uri()).eventLoops(1).grace(Duration.ofSeconds(1))
        .route(new GatewayConfig.Route("api", List.of(
            Rule.builder("api.per-ip").path("/api").limit("2/min").build(),
            Rule.builder("api.all").path("/api").limit("100/min").key(dev.throttle.http.KeyResolver.all()).build())))
        .build());
    int port = gateway.port();
    for (int i = 0; i < 5; i++) {
      Http.get(port, "/api/x");
    }
    Http.get(port, "/elsewhere");

    HttpResponse<String> health = Http.get(gateway.adminPort(), "/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"up\",\"store\":\"memory\",\"waiting\":0,\"in_flight\":0}");

    HttpResponse<String> metrics = Http.get(gateway.adminPort(), "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("text/plain; version=0.0.4"));
    String text = metrics.body();
    assertThat(text).contains(
        "# TYPE throttle_gateway_requests_total counter",
        "throttle_gateway_requests_total{route=\"api\",rule=\"api.per-ip\",outcome=\"allowed\"} 2",
        "throttle_gateway_requests_total{route=\"api\",rule=\"api.per-ip\",outcome=\"refused\"} 3",
        // The second rule decides only for requests the first let pass.
        "throttle_gateway_requests_total{route=\"api\",rule=\"api.all\",outcome=\"allowed\"} 2",
        "throttle_gateway_requests_total{route=\"api\",rule=\"api.all\",outcome=\"refused\"} 0",
        "throttle_gateway_unrouted_requests_total 1",
        "throttle_gateway_decision_seconds_count 6",
        "throttle_gateway_decision_seconds_bucket{le=\"+Inf\"} 6",
        "throttle_gateway_waiting 0",
        "throttle_gateway_in_flight 0",
        "throttle_gateway_upstream_errors_total{kind=\"connect\"} 0");
    assertThat(text).doesNotContain("redis");
    // Every sample line is a name, optional labels and a number: what a Prometheus scraper parses.
    for (String line : text.split("\n")) {
      if (!line.startsWith("#")) {
        assertThat(line).matches("[a-z_]+(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? [0-9.E+-]+");
      }
    }
    assertThat(Http.get(gateway.adminPort(), "/other").statusCode()).isEqualTo(404);
    assertThat(upstream.count()).isEqualTo(3);
  }
}
