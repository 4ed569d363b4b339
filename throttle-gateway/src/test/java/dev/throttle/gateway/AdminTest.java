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
  void healthAndMetricsTellWhatHappened() throws Exception {
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
    assertThat(text).contains("# TYPE throttle_gateway_requests_total counter");
    assertThat(PromText.value(text, "throttle_gateway_requests_total", "route", "api", "rule", "api.per-ip",
        "outcome", "allowed")).isEqualTo(2);
    assertThat(PromText.value(text, "throttle_gateway_requests_total", "route", "api", "rule", "api.per-ip",
        "outcome", "refused")).isEqualTo(3);
    // The second rule decides only for requests the first let pass.
    assertThat(PromText.value(text, "throttle_gateway_requests_total", "route", "api", "rule", "api.all",
        "outcome", "allowed")).isEqualTo(2);
    assertThat(PromText.value(text, "throttle_gateway_requests_total", "route", "api", "rule", "api.all",
        "outcome", "refused")).isEqualTo(0);
    assertThat(PromText.value(text, "throttle_gateway_unrouted_requests_total")).isEqualTo(1);
    assertThat(PromText.value(text, "throttle_gateway_decision_seconds_count")).isEqualTo(6);
    assertThat(PromText.value(text, "throttle_gateway_decision_seconds_bucket", "le", "+Inf")).isEqualTo(6);
    assertThat(PromText.value(text, "throttle_gateway_waiting")).isEqualTo(0);
    assertThat(PromText.value(text, "throttle_gateway_in_flight")).isEqualTo(0);
    assertThat(PromText.value(text, "throttle_gateway_upstream_errors_total", "kind", "connect")).isEqualTo(0);
    assertThat(text).doesNotContain("redis");
    assertThat(Http.get(gateway.adminPort(), "/other").statusCode()).isEqualTo(404);
    assertThat(upstream.count()).isEqualTo(3);
  }

  /** The body of /metrics, scraped over a socket, as Prometheus's own checker reads it: no error, no lint. */
  @Test
  void metricsPassPromtool() throws Exception {
    gateway = Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).admin("127.0.0.1", 0)
        .upstream(upstream.uri()).eventLoops(1).grace(Duration.ofSeconds(1))
        .route(new GatewayConfig.Route("api", List.of(Rule.builder("api.all").path("/api").limit("1/min")
            .build())))
        .build());
    Http.get(gateway.port(), "/api/x");
    Http.get(gateway.port(), "/api/x");
    HttpResponse<String> metrics = Http.get(gateway.adminPort(), "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    Promtool.check(metrics.body());
    assertThat(PromText.value(metrics.body(), "throttle_gateway_requests_total", "route", "api", "rule", "api.all",
        "outcome", "refused")).isEqualTo(1);
  }
}
