package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.throttle.http.Rule;
import dev.throttle.http.Verdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Delay mode on real sockets: requests wait their turn without holding the event loop, a client that leaves gives
 * its place back, and a shutdown answers the waiting requests 503 while requests in flight finish. Wall time is
 * unavoidable here; bounds are lower bounds (not faster than the rate) or separate two outcomes by a whole period.
 */
class DelayTest extends GatewayTests {

  private Gateway start(Rule rule, Duration grace) {
    gateway = Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).admin("127.0.0.1", 0)
        .upstream(upstream.uri()).eventLoops(1).grace(grace)
        .route(new GatewayConfig.Route("api", List.of(rule))).build());
    return gateway;
  }

  private static CompletableFuture<HttpResponse<String>> getAsync(int port, String path) {
    return Http.CLIENT.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void delayedRequestsWaitTheirTurnWithoutHoldingTheEventLoop() {
    // One event loop: if waiting held it, nothing else could be served meanwhile.
    int port = start(Rule.builder("api").path("/api").limit("5/s burst 1").delay(Duration.ofSeconds(10)).build(),
        Duration.ofSeconds(2)).port();
    long t0 = System.nanoTime();
    List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      waiting.add(getAsync(port, "/api/" + i));
    }
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10))
        .until(() -> gateway.metrics().count("api", Verdict.Outcome.ALLOWED) == 1 && waitingNow() >= 5);
    long before = System.nanoTime();
    HttpResponse<String> other = Http.get(port, "/public/x");
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(waiting.stream().filter(CompletableFuture::isDone).count())
        .as("answered while most were still waiting").isLessThan(11);
    assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(1));

    List<HttpResponse<String>> answers = waiting.stream().map(CompletableFuture::join).toList();
    long elapsed = System.nanoTime() - t0;
    assertThat(answers).allSatisfy(r -> {
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=5;w=1");
    });
    // 11 requests at 5 per second with a burst of 1: the last passes 2 s after the first, never sooner.
    assertThat(Duration.ofNanos(elapsed)).isGreaterThanOrEqualTo(Duration.ofMillis(1990));
    assertThat(gateway.metrics().count("api", Verdict.Outcome.DELAYED)).isEqualTo(10);
    assertThat(upstream.count()).isEqualTo(12);
  }

  private int waitingNow() {
    return (int) PromText.value(gateway.metricsText(), "throttle_gateway_waiting");
  }

  private static Socket send(int port, String path) {
    Socket s = Http.connect(port);
    try {
      Http.write(s, "GET " + path + " HTTP/1.1\nHost: x\n\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return s;
  }

  @Test
  void aClientThatDisconnectsWhileWaitingGivesItsPlaceBack() throws Exception {
    int port = start(Rule.builder("api").path("/api").limit("1/2s burst 1").delay(Duration.ofSeconds(10)).build(),
        Duration.ofSeconds(2)).port();
    // Taken before the first request is sent, so before the decision that the turns below count from: read after
    // its answer, the 2 s could end a few milliseconds before this clock's (CI saw 1.989 s).
    long t0 = System.nanoTime();
    assertThat(Http.get(port, "/api/first").statusCode()).isEqualTo(200);
    Socket leaving = send(port, "/api/leaving"); // its turn: +2 s
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5)).until(() -> waitingNow() == 1);
    Socket staying = send(port, "/api/staying"); // its turn: +4 s, or +2 s once the first leaves
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5)).until(() -> waitingNow() == 2);
    leaving.close();
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5))
        .until(() -> gateway.metrics().count("api", Verdict.Outcome.CLIENT_GONE) == 1);
    try (staying) {
      Http.Raw r = Http.read(staying.getInputStream());
      long waited = System.nanoTime() - t0;
      assertThat(r.status()).isEqualTo(200);
      // Not before the first turn (2 s), and a whole period before the turn it had behind the departed client.
      assertThat(Duration.ofNanos(waited)).isBetween(Duration.ofMillis(1990), Duration.ofMillis(3500));
    }
    assertThat(upstream.received()).extracting(Upstream.Received::uri).containsExactly("/api/first", "/api/staying");
  }

  @Test
  void shutdownAnswersWaitingRequests503AndLetsRequestsInFlightFinish() throws Exception {
    int port = start(Rule.builder("api").path("/api").limit("1/20s").delay(Duration.ofSeconds(30)).build(),
        Duration.ofSeconds(10)).port();
    CompletableFuture<HttpResponse<String>> inFlight = getAsync(port, "/api/hold");
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5)).until(() -> upstream.count() == 1);
    CompletableFuture<HttpResponse<String>> waiting = getAsync(port, "/api/waits");
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5)).until(() -> waitingNow() == 1);

    CompletableFuture<Void> closing = CompletableFuture.runAsync(gateway::close);
    HttpResponse<String> answered = waiting.get(5, TimeUnit.SECONDS);
    assertThat(answered.statusCode()).isEqualTo(503);
    assertThat(answered.headers().firstValue("Retry-After")).isPresent();
    assertThat(answered.body()).contains("shutting down");
    assertThat(closing).as("still finishing the request in flight").isNotDone();
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThatThrownBy(() -> Http.raw(port, "GET /api/new HTTP/1.1\nHost: x\n\n"))
            .as("no new connections").isInstanceOf(UncheckedIOException.class));

    upstream.release();
    assertThat(inFlight.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    closing.get(10, TimeUnit.SECONDS);
    assertThat(upstream.received()).extracting(Upstream.Received::uri).containsExactly("/api/hold");
  }
}
