package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.Rule;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gateway's HTTP/1.1 parsing on raw sockets, against RFC 9112: each malformed or ambiguous request gets the
 * status it must get, a refused one closes its connection (nothing after it on that connection is read as another
 * request), and nothing of it reaches the upstream, whose own record of what it received is the proof. A few
 * well-formed but unusual requests are in the table too, so that strictness does not refuse what the RFC allows.
 *
 * <p>In the requests, a line feed stands for CRLF; {@code ~} is a bare LF, {@code ^} a bare CR, {@code @0} a NUL.
 */
class ConformanceTest extends GatewayTests {

  /** A request that would reach the upstream as {@code /smuggled} if a framing error let its bytes be read as one. */
  private static final String SMUGGLED = "GET /smuggled HTTP/1.1\nHost: x\n\n";

  private static final int MAX_BODY = 1000;

  static Stream<Arguments> table() {
    List<Arguments> t = new ArrayList<>();
    // ---- framing (RFC 9112 6.1, 6.3) ----
    String smuggledLength = String.valueOf(crlf(SMUGGLED).length());
    t.add(refused("chunked not the last coding", 400,
        "POST /te-gzip HTTP/1.1\nHost: x\nTransfer-Encoding: gzip\n\n" + SMUGGLED));
    t.add(refused("unknown coding with Content-Length", 400,
        "POST /te-xchunked HTTP/1.1\nHost: x\nTransfer-Encoding: xchunked\nContent-Length: " + smuggledLength + "\n\n"
            + SMUGGLED));
    t.add(refused("chunked then gzip", 400,
        "POST /te HTTP/1.1\nHost: x\nTransfer-Encoding: chunked, gzip\n\n0\n\n" + SMUGGLED));
    t.add(refused("identity coding", 400,
        "POST /te HTTP/1.1\nHost: x\nTransfer-Encoding: identity\nContent-Length: 3\n\nabc"));
    t.add(refused("chunked twice", 400,
        "POST /te HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n"));
    t.add(refused("a coding before chunked (not implemented)", 501,
        "POST /te HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked\n\n3\nabc\n0\n\n" + SMUGGLED));
    t.add(refused("chunked and Content-Length", 400,
        "POST /te-cl HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nContent-Length: 3\n\n0\n\n" + SMUGGLED));
    t.add(refused("Transfer-Encoding in HTTP/1.0", 400,
        "POST /te10 HTTP/1.0\nHost: x\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n" + SMUGGLED));
    t.add(refused("two different Content-Lengths", 400,
        "POST /cl HTTP/1.1\nHost: x\nContent-Length: 3\nContent-Length: 4\n\nabcd"));
    t.add(refused("Content-Length listed twice", 400, "POST /cl HTTP/1.1\nHost: x\nContent-Length: 3, 3\n\nabc"));
    t.add(refused("Content-Length with a sign", 400, "POST /cl HTTP/1.1\nHost: x\nContent-Length: +3\n\nabc"));
    t.add(refused("negative Content-Length", 400, "POST /cl HTTP/1.1\nHost: x\nContent-Length: -1\n\nabc"));
    t.add(refused("Content-Length not a number", 400, "POST /cl HTTP/1.1\nHost: x\nContent-Length: 3a\n\nabc"));
    t.add(refused("empty Content-Length", 400, "POST /cl HTTP/1.1\nHost: x\nContent-Length:\n\nabc"));
    t.add(passed("chunked in capitals, with spaces", "POST /ok-te HTTP/1.1\nHost: x\nTransfer-Encoding:  Chunked \n\n"
        + "3\nabc\n0\n\n"));
    // ---- Host (RFC 9112 3.2) ----
    t.add(refused("no Host", 400, "GET /no-host HTTP/1.1\nX-A: b\n\n"));
    t.add(refused("two Hosts", 400, "GET /two-hosts HTTP/1.1\nHost: a\nHost: b\n\n"));
    t.add(refused("Host with a space", 400, "GET /host HTTP/1.1\nHost: a b\n\n"));
    t.add(refused("Host with user information", 400, "GET /host HTTP/1.1\nHost: user@a\n\n"));
    t.add(refused("Host with an unclosed IPv6 literal", 400, "GET /host HTTP/1.1\nHost: [::1\n\n"));
    t.add(refused("Host with a port that is not a number", 400, "GET /host HTTP/1.1\nHost: a:b\n\n"));
    t.add(refused("Host with a path", 400, "GET /host HTTP/1.1\nHost: a/b\n\n"));
    t.add(refused("Host listing two", 400, "GET /host HTTP/1.1\nHost: a, b\n\n"));
    t.add(passed("an IPv6 Host with a port", "GET /ok-host6 HTTP/1.1\nHost: [::1]:8080\n\n"));
    t.add(passed("an empty Host", "GET /ok-host-empty HTTP/1.1\nHost:\n\n"));
    t.add(passed("HTTP/1.0 without Host", "GET /ok-10 HTTP/1.0\n\n"));
    // ---- header syntax (RFC 9112 5, 5.1, 5.2; RFC 9110 5.5) ----
    t.add(refused("space before the colon", 400, "GET /h HTTP/1.1\nHost: x\nX-A : b\n\n"));
    // RFC 9112 5.2 lets a server replace obsolete folding with a space instead of refusing: Netty does.
    t.add(passed("obsolete line folding", "GET /ok-fold HTTP/1.1\nHost: x\nX-A: a\n  b\n\n"));
    t.add(passed("obsolete folding with a tab", "GET /ok-fold HTTP/1.1\nHost: x\nX-A: a\n\tb\n\n"));
    t.add(refused("a name with a delimiter", 400, "GET /h HTTP/1.1\nHost: x\nX(A): b\n\n"));
    t.add(refused("a line without a colon", 400, "GET /h HTTP/1.1\nHost: x\nX-A\n\n"));
    t.add(refused("an empty name", 400, "GET /h HTTP/1.1\nHost: x\n: b\n\n"));
    t.add(refused("a bare CR in a value", 400, "GET /h HTTP/1.1\nHost: x\nX-A: a^b\n\n"));
    t.add(refused("a NUL in a value", 400, "GET /h HTTP/1.1\nHost: x\nX-A: a@0b\n\n"));
    // RFC 9112 2.2 lets a server take a bare LF for CRLF in the head, or not: Netty does not.
    t.add(refused("fields ended by bare LFs", 400, "GET /lf HTTP/1.1~Host: x~X-A: b~~"));
    // ---- request line (RFC 9112 3) ----
    t.add(refused("a space in the target", 400, "GET /a b HTTP/1.1\nHost: x\n\n"));
    t.add(refused("a control character in the target", 400, "GET /a\u0001b HTTP/1.1\nHost: x\n\n"));
    // ---- chunks (RFC 9112 7.1) ----
    String chunked = "POST /chunks HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n";
    t.add(refused("chunk size not hex", 400, chunked + "zz\nabc\n0\n\n"));
    t.add(refused("negative chunk size", 400, chunked + "-1\nabc\n0\n\n"));
    t.add(passed("chunk size of 20 hex digits with leading zeros (1*HEXDIG)", chunked.replace("/chunks", "/ok-zeros")
        + "00000000000000000003\nabc\n0\n\n"));
    t.add(refused("chunk size too large", 400, chunked + "fffffffffffffffffff\nabc\n0\n\n"));
    t.add(refused("chunk longer than its size", 400, chunked + "3\nabcdef\n0\n\n"));
    t.add(refused("chunk lines ended by bare LFs", 400, chunked + "3~abc~0~~"));
    t.add(refused("chunk data not followed by CRLF", 400, chunked + "3\nabc0\n\n"));
    t.add(refused("empty chunk size", 400, chunked + "\nabc\n0\n\n"));
    t.add(passed("a chunk extension and a trailer", "POST /ok-chunks HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n"
        + "3;name=\"v\"\nabc\n0\nX-Trailer: t\n\n"));
    // ---- oversized parts ----
    t.add(refused("a request line too long", 414, "GET /" + "a".repeat(9000) + " HTTP/1.1\nHost: x\n\n"));
    t.add(refused("a field too long", 431, "GET /big HTTP/1.1\nHost: x\nX-A: " + "a".repeat(9000) + "\n\n"));
    t.add(refused("a declared body too large", 413, "POST /big HTTP/1.1\nHost: x\nContent-Length: " + (MAX_BODY + 1)
        + "\n\n" + "a".repeat(MAX_BODY + 1)));
    return t.stream();
  }

  private static Arguments refused(String name, int status, String request) {
    return Arguments.of(name, status, request);
  }

  private static Arguments passed(String name, String request) {
    return Arguments.of(name, 200, request);
  }

  private int port;

  @BeforeEach
  void startGateway() {
    gateway = Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).noAdmin().upstream(upstream.uri())
        .eventLoops(1).grace(Duration.ofMillis(500)).maxBodyBytes(MAX_BODY)
        .route(new GatewayConfig.Route("all", List.of(Rule.builder("all").limit("1000/s").build()))).build());
    port = gateway.port();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("table")
  void eachRequestGetsItsStatusAndARefusedOneNeverReachesTheUpstream(String name, int status, String request)
      throws IOException {
    try (Socket s = Http.connect(port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(crlf(request).getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      Http.Raw r = Http.read(s.getInputStream());
      assertThat(r.status()).as(name).isEqualTo(status);
      if (status != 200) {
        assertThat(r.header("Connection")).as("a refused request closes its connection").isEqualToIgnoringCase("close");
        assertThat(Http.closedWithin(s, 5000)).as("nothing more is answered on that connection").isTrue();
      }
    }
    // Then a request of its own, on a new connection: once the upstream has it, it has everything before it.
    assertThat(Http.get(port, "/sentinel").statusCode()).isEqualTo(200);
    List<String> received = upstream.received().stream().map(Upstream.Received::uri).toList();
    if (status == 200) {
      assertThat(received).hasSize(2).last().isEqualTo("/sentinel");
      assertThat(received.get(0)).startsWith("/ok");
      if (name.startsWith("obsolete")) {
        assertThat(upstream.received().get(0).header("X-A")).as("the fold replaced by a space").isEqualTo("a b");
      }
    } else {
      assertThat(received).as("what reached the upstream").containsExactly("/sentinel");
    }
  }

  /**
   * A flood of malformed chunks: each answered 400 and counted, and the log holds a few lines saying how many were
   * held back, not a line (nor an ERROR with a stack trace) per request.
   */
  @org.junit.jupiter.api.Test
  void aFloodOfMalformedChunksIsAnsweredCountedAndLoggedSparingly() throws IOException {
    java.io.PrintStream savedErr = System.err;
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    int answered400 = 0;
    long t0 = System.nanoTime();
    System.setErr(new java.io.PrintStream(log, true, StandardCharsets.UTF_8)); // slf4j-simple writes to System.err
    try {
      for (int i = 0; i < 300; i++) {
        answered400 += malformedChunk(i) == 400 ? 1 : 0;
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      List<String> refusals = log.toString(StandardCharsets.UTF_8).lines()
          .filter(l -> l.contains("request refused")).toList();
      // The limiter (shared by every gateway of the JVM) lets 5 lines at once, then 1 a second.
      assertThat(refusals).hasSizeLessThanOrEqualTo(5 + (int) Math.ceil(seconds) + 1);
      // The next line allowed says how many were held back.
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
          .until(() -> malformedChunk(0) == 400 && log.toString(StandardCharsets.UTF_8)
              .matches("(?s).*request refused.*\\(\\d+ more since the last warning\\).*"));
    } finally {
      System.setErr(savedErr);
    }
    assertThat(answered400).isEqualTo(300);
    assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("ERROR").doesNotContain("Exception");
    assertThat(PromText.value(gateway.metricsText(), "throttle_gateway_request_errors_total", "kind", "bad_request"))
        .isBetween(300.0, 309.0);
    assertThat(upstream.received()).isEmpty();
  }

  /** Sends a request whose chunk size is malformed (three kinds, by {@code i}) and returns the status. */
  private int malformedChunk(int i) throws IOException {
    String size = new String[] {"zz", "-1", "fffffffffffffffffffff"}[i % 3];
    try (Socket s = Http.connect(port)) {
      s.getOutputStream().write(crlf("POST /flood HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n" + size
          + "\nabc\n0\n\n").getBytes(StandardCharsets.ISO_8859_1));
      return Http.read(s.getInputStream()).status();
    }
  }

  /** LF to CRLF, then the markers: {@code ~} a bare LF, {@code ^} a bare CR, {@code @0} a NUL. */
  static String crlf(String request) {
    return request.replace("\n", "\r\n").replace("~", "\n").replace("^", "\r").replace("@0", "\0");
  }
}
