package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.throttle.http.Verdict;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * {@link Gateway#reload}: new routes and limits apply to the next request, buckets of unchanged rules keep their
 * state, connections stay open, a bad configuration is refused with its error and the old one stays in force.
 * Limits are per minute, so that no refill happens within a test.
 */
class ReloadTest extends GatewayTests {

  private String yaml(String routes) {
    return "listen: 127.0.0.1:0\nadmin: off\nupstream: " + upstream.uri() + "\nevent-loops: 1\nroutes:\n" + routes;
  }

  private static final String A = """
        - name: a
          path: /a
          rules:
            - limit: 2/min
        - name: b
          path: /b
          rules:
            - limit: 2/min
      """;

  private int start(String routes) {
    gateway = Gateway.start(GatewayConfig.parse(yaml(routes), "gw.yaml"));
    return gateway.port();
  }

  private Gateway.Reload reload(String routes) {
    return gateway.reload(GatewayConfig.parse(yaml(routes), "gw.yaml"));
  }

  private static int status(int port, String path) {
    return Http.get(port, path).statusCode();
  }

  @Test
  void aChangedLimitAppliesToTheNextRequestAndAnUnchangedRuleKeepsItsBuckets() {
    int port = start(A);
    assertThat(status(port, "/a/1")).isEqualTo(200);
    assertThat(status(port, "/a/2")).isEqualTo(200);
    assertThat(status(port, "/b/1")).isEqualTo(200);
    assertThat(status(port, "/b/2")).isEqualTo(200);
    assertThat(status(port, "/a/3")).isEqualTo(429);
    assertThat(status(port, "/b/3")).isEqualTo(429);

    Gateway.Reload r = reload("""
        - name: a
          path: /a
          rules:
            - limit: 2/min
        - name: b
          path: /b
          rules:
            - limit: 5/min
        - name: c
          path: /c
          rules:
            - limit: 1/min
      """);

    assertThat(r.kept()).containsExactly("a");
    assertThat(r.restarted()).containsExactly("b");
    assertThat(r.added()).containsExactly("c");
    assertThat(r.removed()).isEmpty();
    assertThat(status(port, "/a/4")).as("a's bucket is still empty").isEqualTo(429);
    assertThat(status(port, "/b/4")).as("b has its new limit, and a new bucket").isEqualTo(200);
    assertThat(Http.get(port, "/b/5").headers().firstValue("RateLimit-Policy")).hasValue("\"b\";q=5;w=60");
    assertThat(status(port, "/c/1")).isEqualTo(200);
    assertThat(status(port, "/c/2")).isEqualTo(429);
    assertThat(gateway.config().routes()).extracting(GatewayConfig.Route::name).containsExactly("a", "b", "c");
    assertThat(gateway.metricsText()).contains("route=\"c\",rule=\"c\"} 1.0");
  }

  @Test
  void aRuleMovedToAnotherPathKeepsItsBucketsAndARemovedRouteNoLongerLimits() {
    int port = start(A);
    assertThat(status(port, "/a/1")).isEqualTo(200);
    assertThat(status(port, "/a/2")).isEqualTo(200);
    Gateway.Reload r = reload("""
        - name: a
          path: /moved
          rules:
            - limit: 2/min
      """);
    assertThat(r.kept()).containsExactly("a");
    assertThat(r.removed()).containsExactly("b");
    assertThat(status(port, "/moved/1")).as("the same bucket, spent before the reload").isEqualTo(429);
    assertThat(status(port, "/a/3")).as("no route covers /a now: passed on untouched").isEqualTo(200);
    for (int i = 0; i < 5; i++) {
      assertThat(status(port, "/b/" + i)).isEqualTo(200);
    }
  }

  @Test
  void aBadFileIsRefusedWithItsErrorAndTheOldConfigurationStays() {
    int port = start(A);
    assertThat(status(port, "/a/1")).isEqualTo(200);
    assertThatThrownBy(() -> reload(A.replace("2/min", "2/fortnight")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("gw.yaml").hasMessageContaining("2/fortnight");
    String changesPort = yaml(A).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:1");
    assertThatThrownBy(() -> gateway.reload(GatewayConfig.parse(changesPort, "gw.yaml")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("cannot reload: listen changed from 127.0.0.1:0 to 127.0.0.1:1, and it is read at start only (a "
            + "reload changes routes, legacy-headers, rate-limit-headers); restart the gateway to change it. The "
            + "gateway goes on with the configuration it had.");
    assertThat(status(port, "/a/2")).isEqualTo(200);
    assertThat(status(port, "/a/3")).as("the old rule, with its bucket").isEqualTo(429);
    assertThat(gateway.config().routes()).extracting(GatewayConfig.Route::name).containsExactly("a", "b");
  }

  /** A keep-alive connection opened before the reload carries requests decided by the new rules after it. */
  @Test
  void connectionsStayOpenAcrossAReload() throws Exception {
    int port = start(A);
    try (Socket s = Http.connect(port)) {
      InputStream in = s.getInputStream();
      Http.write(s, "GET /b/1 HTTP/1.1\nHost: x\n\n");
      assertThat(Http.read(in).status()).isEqualTo(200);
      reload(A.replace("path: /b\n    rules:\n      - limit: 2/min", "path: /b\n    rules:\n      - limit: 1/min"));
      Http.write(s, "GET /b/2 HTTP/1.1\nHost: x\n\n");
      Http.Raw after = Http.read(in);
      assertThat(after.status()).as("b is 1/min now, with a new bucket").isEqualTo(200);
      assertThat(after.header("RateLimit-Policy")).isEqualTo("\"b\";q=1;w=60");
      Http.write(s, "GET /b/3 HTTP/1.1\nHost: x\n\n");
      assertThat(Http.read(in).status()).isEqualTo(429);
    }
  }

  /** A request waiting for its turn under the old rules keeps its place; the new rules decide the ones after it. */
  @Test
  void aRequestWaitingUnderTheOldRulesKeepsItsPlace() {
    int port = start("""
        - name: d
          path: /d
          rules:
            - limit: 1/2s burst 1
              mode: delay
              max-wait: 10s
      """);
    assertThat(status(port, "/d/1")).isEqualTo(200);
    CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> status(port, "/d/2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.metricsText().contains("throttle_gateway_waiting 1.0"));
    reload("""
        - name: d
          path: /d
          rules:
            - limit: 100/min
      """);
    assertThat(status(port, "/d/3")).as("decided by the new rule at once").isEqualTo(200);
    assertThat(gateway.metricsText()).as("still counted as waiting").contains("throttle_gateway_waiting 1.0");
    assertThat(waiting.join()).isEqualTo(200);
    assertThat(gateway.metrics().count("d", Verdict.Outcome.DELAYED)).isEqualTo(1);
  }

  @Test
  void aClosedGatewayIsNotReloaded() {
    start(A);
    GatewayConfig same = gateway.config();
    gateway.close();
    assertThatThrownBy(() -> gateway.reload(same)).isInstanceOf(IllegalStateException.class)
        .hasMessage("the gateway is closed");
    gateway = null;
  }
}
