package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.http.Rule;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The header and idle timeouts on real sockets: a client that never completes a request head (all at once or byte by
 * byte, as slowloris does) is closed after the header timeout, a kept-alive connection after the idle timeout, and
 * neither holds up a shutdown.
 */
class TimeoutTest extends GatewayTests {

  private Gateway start(Duration header, Duration idle, Duration grace) {
    gateway = Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).noAdmin().upstream(upstream.uri())
        .eventLoops(1).grace(grace).headerTimeout(header).idleTimeout(idle)
        .route(new GatewayConfig.Route("all", List.of(Rule.builder("all").limit("1000/s").build()))).build());
    return gateway;
  }

  @Test
  void slowClientsAreClosedAfterTheHeaderTimeoutAndOthersStillServed() throws Exception {
    start(Duration.ofMillis(700), Duration.ofSeconds(30), Duration.ofSeconds(2));
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 50; i++) {
        Socket s = Http.connect(gateway.port());
        s.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        slow.add(s);
      }
      // One more sends its head a byte every 100 ms: never complete within the timeout, never silent for long.
      Socket dripping = Http.connect(gateway.port());
      slow.add(dripping);
      long t0 = System.nanoTime();
      OutputStream out = dripping.getOutputStream();
      boolean closed = false;
      for (int i = 0; i < 100 && !closed; i++) {
        try {
          out.write(i == 0 ? "GET /drip HTTP/1.1\r\nX-A: ".getBytes(StandardCharsets.US_ASCII) : new byte[] {'a'});
          out.flush();
        } catch (SocketException reset) {
          closed = true;
        }
        if (!closed) {
          Thread.sleep(100); // the client's own pace: what is tested, not a wait for the gateway
          closed = Http.closedWithin(dripping, 1);
        }
      }
      assertThat(closed).as("the dripping client is closed").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(600), Duration.ofSeconds(5));
      // Meanwhile a normal request is served.
      assertThat(Http.get(gateway.port(), "/normal").statusCode()).isEqualTo(200);
      for (Socket s : slow) {
        assertThat(Http.closedWithin(s, 5000)).as("each slow connection is closed").isTrue();
      }
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(gateway.metricsText())
          .contains("throttle_gateway_connection_timeouts_total{kind=\"header\"} 51"));
      assertThat(upstream.received()).extracting(Upstream.Received::uri).containsExactly("/normal");
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void aKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    start(Duration.ofSeconds(30), Duration.ofMillis(500), Duration.ofSeconds(2));
    try (Socket s = Http.connect(gateway.port())) {
      for (int i = 0; i < 2; i++) { // the timeout starts again after each answer
        Http.write(s, "GET /kept HTTP/1.1\nHost: x\n\n");
        assertThat(Http.read(s.getInputStream()).status()).isEqualTo(200);
      }
      long t0 = System.nanoTime();
      assertThat(Http.closedWithin(s, 5000)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(400));
    }
    assertThat(gateway.metricsText()).contains("throttle_gateway_connection_timeouts_total{kind=\"idle\"} 1");
  }

  @Test
  void aConnectionThatNeverCompletesARequestDoesNotHoldUpAShutdown() throws Exception {
    start(Duration.ofSeconds(60), Duration.ofSeconds(75), Duration.ofSeconds(10));
    try (Socket partial = Http.connect(gateway.port()); Socket idle = Http.connect(gateway.port())) {
      partial.getOutputStream().write("GET /partial HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      Http.write(idle, "GET /done HTTP/1.1\nHost: x\n\n");
      assertThat(Http.read(idle.getInputStream()).status()).isEqualTo(200);
      long t0 = System.nanoTime();
      gateway.close();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("well within the 10 s grace")
          .isLessThan(Duration.ofSeconds(3));
      assertThat(Http.closedWithin(partial, 1000)).isTrue();
      assertThat(Http.closedWithin(idle, 1000)).isTrue();
    }
  }
}
