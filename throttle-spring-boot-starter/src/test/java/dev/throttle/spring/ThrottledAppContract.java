package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.HttpThrottle;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;

/**
 * What a Spring application gets from the starter with nothing but its YAML (servlet.yml, webflux.yml), over real
 * sockets; run against a Servlet application and a WebFlux one. Each test uses its own route, so that the buckets
 * of one do not depend on another.
 */
abstract class ThrottledAppContract {

  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Value("${local.server.port}")
  int port;

  @Autowired
  HttpThrottle throttle;

  HttpResponse<String> get(String path, String... headers) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(20));
      if (headers.length > 0) {
        b.headers(headers);
      }
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void refusesBeyondTheLimitWith429RetryAfterAndTheIetfFields() {
    HttpResponse<String> first = get("/api/items");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).isEqualTo("ok");
    assertThat(first.headers().firstValue("RateLimit-Policy")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("\"items\";q=2;w=60"));
    assertThat(first.headers().firstValue("RateLimit")).hasValue("\"items\";r=1;t=30");
    assertThat(get("/api/items").statusCode()).isEqualTo(200);

    HttpResponse<String> refused = get("/api/items");
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v))
        .isBetween(1L, 30L));
    assertThat(refused.headers().firstValue("RateLimit")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("\"items\";r=0;t="));
    assertThat(refused.headers().firstValue("X-RateLimit-Limit")).hasValue("2");
    assertThat(refused.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
    assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("application/problem+json"));
    assertThat(refused.body()).contains("\"status\":429").contains("items");
  }

  /** The rules see the path as the application routes it: decoded, so that /ap%69 cannot pass for another route. */
  @Test
  void anEncodedPathIsThrottledAsTheRouteItReaches() {
    assertThat(get("/api/encoded").statusCode()).isEqualTo(200);
    assertThat(get("/api/encode%64").statusCode()).isEqualTo(429);
    assertThat(get("/ap%69/encoded").statusCode()).isEqualTo(429);
  }

  @Test
  void requestsNoRouteCoversPassUntouched() {
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = get("/open");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("RateLimit")).isEmpty();
    }
  }

  @Test
  void eachKeyHasItsOwnBucket() {
    assertThat(get("/api/keyed", "X-API-Key", "alice").statusCode()).isEqualTo(200);
    assertThat(get("/api/keyed", "X-API-Key", "alice").statusCode()).isEqualTo(200);
    assertThat(get("/api/keyed", "X-API-Key", "alice").statusCode()).isEqualTo(429);
    assertThat(get("/api/keyed", "X-API-Key", "bob").statusCode()).isEqualTo(200);
    assertThat(get("/api/keyed", "X-API-Key", "bob").statusCode()).isEqualTo(200);
    assertThat(get("/api/keyed", "X-API-Key", "bob").statusCode()).isEqualTo(429);
  }

  /**
   * 4/s burst 1 in delay mode: of three requests sent at once, one passes at once and the others wait their turns,
   * 250 ms apart; none is refused. The last cannot have been answered before two turns (500 ms) went by.
   */
  /**
   * After a 429, the application's Actuator shows the throttle's counters in Prometheus's text format: by rule and
   * outcome, the refused request as {@code refused}, and the rule's delayed count registered at 0 before any.
   */
  @Test
  void theVerdictsAreCountedAtActuatorPrometheus() {
    assertThat(get("/api/metered").statusCode()).isEqualTo(200);
    assertThat(get("/api/metered").statusCode()).isEqualTo(429);
    HttpResponse<String> scrape = get("/actuator/prometheus");
    assertThat(scrape.statusCode()).isEqualTo(200);
    PrometheusText metrics = PrometheusText.parse(scrape.body());
    assertThat(metrics.type("throttle_http_requests_total")).isEqualTo("counter");
    assertThat(metrics.value("throttle_http_requests_total", "outcome", "allowed", "rule", "metered")).isEqualTo(1.0);
    assertThat(metrics.value("throttle_http_requests_total", "outcome", "refused", "rule", "metered")).isEqualTo(1.0);
    assertThat(metrics.value("throttle_http_requests_total", "outcome", "delayed", "rule", "metered")).isEqualTo(0.0);
    assertThat(metrics.value("throttle_http_unrouted_requests_total")).isGreaterThanOrEqualTo(0.0);
    assertThat(metrics.type("throttle_http_wait_seconds")).isEqualTo("summary");
  }

  @Test
  void delaysBeyondTheLimitInsteadOfRefusing() {
    long start = System.nanoTime();
    List<CompletableFuture<Long>> answers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/slow"))
          .timeout(Duration.ofSeconds(20)).build();
      answers.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
        return System.nanoTime() - start;
      }));
    }
    long slowest = answers.stream().mapToLong(CompletableFuture::join).max().orElseThrow();
    assertThat(Duration.ofNanos(slowest)).isGreaterThanOrEqualTo(Duration.ofMillis(450));
    assertThat(throttle.waiting()).isZero();
  }
}
