package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.KeyResolver;
import dev.throttle.http.Rule;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The gateway on real sockets in front of a real upstream: what reaches it, what comes back, and failures. */
class ProxyTest extends GatewayTests {

  private static GatewayConfig.Builder config(String upstreamUri, Rule... rules) {
    return GatewayConfig.builder().listen("127.0.0.1", 0).admin("127.0.0.1", 0).upstream(upstreamUri)
        .eventLoops(2).grace(Duration.ofSeconds(2)).route(new GatewayConfig.Route("api", List.of(rules)));
  }

  private Gateway start(GatewayConfig.Builder b) {
    gateway = Gateway.start(b.build());
    return gateway;
  }

  @Test
  void allowedRequestsReachTheUpstreamWithTheirBodyIntactAndRefusedOnesNever() {
    int port = start(config(upstream.uri(), Rule.builder("api").path("/api").limit("3/min").build())).port();
    byte[] body = new byte[300_000];
    new Random(7).nextBytes(body);
    HttpResponse<String> first = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/api/echo?x=1")).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    assertThat(first.statusCode()).isEqualTo(200);
    Upstream.Received got = upstream.received().get(0);
    assertThat(got.method()).isEqualTo("POST");
    assertThat(got.uri()).isEqualTo("/api/echo?x=1");
    assertThat(got.length()).isEqualTo(body.length);
    assertThat(got.sha256()).isEqualTo(Upstream.sha256(body));
    // The answer is the upstream's, with the rate-limit fields added.
    assertThat(first.headers().firstValue("X-Upstream")).hasValue("yes");
    assertThat(first.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=3;w=60");
    assertThat(first.headers().firstValue("RateLimit"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("\"api\";r=2;"));

    assertThat(Http.get(port, "/api/a").statusCode()).isEqualTo(200);
    assertThat(Http.get(port, "/api/b").statusCode()).isEqualTo(200);
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> refused = Http.get(port, "/api/refused");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v))
          .isBetween(1L, 20L));
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(refused.body()).contains("\"status\":429").contains("\"violated-policies\":[\"api\"]");
    }
    assertThat(upstream.count()).isEqualTo(3);
    assertThat(upstream.received()).noneMatch(r -> r.uri().contains("refused"));
  }

  @Test
  void theEchoedBodyComesBackByteForByte() {
    int port = start(config(upstream.uri(), Rule.builder("api").path("/api").limit("100/s").build())).port();
    byte[] body = new byte[1 << 20];
    new Random(11).nextBytes(body);
    HttpResponse<byte[]> r;
    try {
      r = Http.CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/echo"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body().length).isEqualTo(body.length);
    assertThat(Upstream.sha256(r.body())).isEqualTo(Upstream.sha256(body));
  }

  @Test
  void forwardingFieldsAreAddedAndHopByHopFieldsDropped() {
    int port = start(config(upstream.uri(), Rule.builder("api").path("/api").limit("100/s").build())).port();
    Http.Raw r = Http.raw(port, "GET /api/x HTTP/1.1\nHost: front.example:8080\nConnection: keep-alive, X-Secret\n"
        + "X-Secret: hop\nKeep-Alive: timeout=5\nX-Forwarded-For: 198.51.100.7\nX-Kept: yes\n\n");
    assertThat(r.status()).isEqualTo(200);
    Upstream.Received got = upstream.received().get(0);
    assertThat(got.header("X-Kept")).isEqualTo("yes");
    assertThat(got.header("X-Secret")).as("named by Connection: hop-by-hop").isNull();
    assertThat(got.header("Keep-Alive")).isNull();
    assertThat(got.header("X-Forwarded-For")).isEqualTo("198.51.100.7, 127.0.0.1");
    assertThat(got.header("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(got.header("X-Forwarded-Host")).isEqualTo("front.example:8080");
  }

  @Test
  void requestsNoRouteCoversPassUntouched() {
    int port = start(config(upstream.uri(), Rule.builder("api").path("/api").limit("1/min").build())).port();
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = Http.get(port, "/public/" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("RateLimit")).isEmpty();
    }
    // A path that only looks like another route once decoded is matched as decoded.
    assertThat(Http.get(port, "/api/one").statusCode()).isEqualTo(200);
    assertThat(Http.get(port, "/ap%69/two").statusCode()).isEqualTo(429);
    assertThat(Http.get(port, "/public/../api/three").statusCode()).isEqualTo(429);
    assertThat(upstream.count()).isEqualTo(4);
  }

  @Test
  void perKeyRulesOfOneRouteApplyTogether() {
    int port = start(config(upstream.uri(),
        Rule.builder("api.per-ip").path("/api").limit("5/min").build(),
        Rule.builder("api.per-key").path("/api").limit("1/min").key(KeyResolver.header("X-API-Key")).build()))
        .port();
    HttpResponse<String> a = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/x"))
        .header("X-API-Key", "a"));
    assertThat(a.statusCode()).isEqualTo(200);
    assertThat(a.headers().firstValue("RateLimit-Policy"))
        .hasValue("\"api.per-ip\";q=5;w=60, \"api.per-key\";q=1;w=60");
    HttpResponse<String> again = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/x"))
        .header("X-API-Key", "a"));
    assertThat(again.statusCode()).isEqualTo(429);
    assertThat(again.body()).contains("api.per-key");
    HttpResponse<String> b = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/x"))
        .header("X-API-Key", "b"));
    assertThat(b.statusCode()).isEqualTo(200);
    assertThat(upstream.count()).isEqualTo(2);
  }

  @Test
  void aBodyOverTheLimitIs413AndNeverReachesTheUpstream() {
    int port = start(config(upstream.uri(), Rule.builder("api").path("/").limit("100/s").build())
        .maxBodyBytes(1000)).port();
    Http.Raw declared = Http.raw(port, "POST /big HTTP/1.1\nHost: x\nContent-Length: 5000\n\n" + "a".repeat(5000));
    assertThat(declared.status()).isEqualTo(413);
    StringBuilder chunked = new StringBuilder("POST /chunked HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n");
    for (int i = 0; i < 5; i++) {
      chunked.append("190\n").append("b".repeat(400)).append("\n");
    }
    chunked.append("0\n\n");
    Http.Raw streamed = Http.raw(port, chunked.toString());
    assertThat(streamed.status()).isEqualTo(413);
    assertThat(upstream.received()).noneMatch(r -> r.uri().equals("/big"));
    // The chunked one was on its way when it crossed the limit: the upstream never got it whole.
    assertThat(upstream.received()).noneMatch(r -> r.uri().equals("/chunked") && r.length() == 2000);
    Http.Raw small = Http.raw(port, "POST /small HTTP/1.1\nHost: x\nContent-Length: 10\n\n0123456789");
    assertThat(small.status()).isEqualTo(200);
  }

  @Test
  void anUnreachableUpstreamIs502AndASilentOne504() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort(); // free once closed: nothing listens there
    }
    gateway = Gateway.start(config("http://127.0.0.1:" + closedPort, Rule.builder("api").path("/").limit("100/s")
        .build()).build());
    HttpResponse<String> r = Http.get(gateway.port(), "/x");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("Bad Gateway");
    assertThat(gateway.metricsText()).contains("throttle_gateway_upstream_errors_total{kind=\"connect\"} 1");
    gateway.close();

    gateway = Gateway.start(config(upstream.uri(), Rule.builder("api").path("/").limit("100/s").build())
        .upstreamTimeout(Duration.ofMillis(300)).build());
    long t0 = System.nanoTime();
    HttpResponse<String> slow = Http.get(gateway.port(), "/slow/3000");
    assertThat(slow.statusCode()).isEqualTo(504);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
    assertThat(Http.get(gateway.port(), "/fast").statusCode()).as("the gateway keeps answering").isEqualTo(200);
  }

  @Test
  void listeningOnAPortInUseFailsWithTheAddress() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      GatewayConfig c = GatewayConfig.builder().listen("127.0.0.1", taken.getLocalPort()).noAdmin()
          .upstream(upstream.uri()).route(new GatewayConfig.Route("api", List.of(Rule.builder("api").limit("1/s")
              .build()))).build();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> Gateway.start(c))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot listen on the address 127.0.0.1:" + taken.getLocalPort());
    }
  }

  /**
   * The documented example behind a trusted proxy: its login route (a rule without {@code key:}, so the default ip
   * key) counts each client named by the proxy's X-Forwarded-For, not the proxy's own address.
   */
  @Test
  void theExampleBehindATrustedProxyKeysEachClientSeparately() throws Exception {
    String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("..", "examples", "throttle.yaml"))
        .replaceFirst("(?m)^listen: .*$", "listen: 127.0.0.1:0")
        .replaceFirst("(?m)^admin: .*$", "admin: off")
        .replaceFirst("(?m)^upstream: .*$", "upstream: " + upstream.uri())
        .replaceFirst("(?m)^trusted-proxies: .*$", "trusted-proxies: [127.0.0.1]");
    gateway = Gateway.start(GatewayConfig.parse(yaml, "throttle.yaml"));
    // The example allows 5 logins a minute per client.
    for (int i = 0; i < 5; i++) {
      assertThat(login("203.0.113.1").statusCode()).isEqualTo(200);
    }
    assertThat(login("203.0.113.1").statusCode()).isEqualTo(429);
    assertThat(login("203.0.113.2").statusCode()).as("another client behind the same proxy").isEqualTo(200);
    assertThat(upstream.count()).isEqualTo(6);
  }

  private HttpResponse<String> login(String client) {
    return Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/api/login"))
        .header("X-Forwarded-For", client).POST(HttpRequest.BodyPublishers.ofString("user=a")));
  }
}
