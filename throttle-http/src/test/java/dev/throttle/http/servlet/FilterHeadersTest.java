package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.JsonReader;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.StructuredFields;
import dev.throttle.http.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The filter on a real Jetty and real sockets, with the limiter on a manual clock so every number is known. */
class FilterHeadersTest {

  private final ManualClock clock = new ManualClock();
  private final List<Verdict> verdicts = java.util.Collections.synchronizedList(new ArrayList<>());
  private TestServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private HttpThrottle throttle(Rule rule) {
    return HttpThrottle.builder().rule(rule).stores(StoreFactory.inMemory(1000, clock, clock)).clock(clock)
        .onVerdict(verdicts::add).build();
  }

  @Test
  void headersOnTheWireParseStrictlyAndAgreeWithTheLimiter() throws Exception {
    Limit limit = Limit.parse("5/s burst 5");
    KeyedRateLimiter<String> store = KeyedRateLimiter.<String>builder(limit).clock(clock).scheduler(clock).build();
    KeyedRateLimiter<String> twin = KeyedRateLimiter.<String>builder(limit).clock(clock).scheduler(clock).build();
    server = TestServer.start(new ThrottleFilter(throttle(Rule.builder("api").store(store).build())));
    for (int i = 0; i < 8; i++) {
      if (i == 7) {
        clock.advance(Duration.ofMillis(450)); // two tokens back, and a half
      }
      RawHttp.Response r = RawHttp.get(server.port(), "/items");
      Decision d = twin.decide("ip:127.0.0.1", 1);
      List<StructuredFields.Member> policy = StructuredFields.parseList(r.header("RateLimit-Policy"));
      assertThat(policy).hasSize(1);
      assertThat(policy.get(0).value()).isEqualTo("api");
      assertThat(policy.get(0).params()).isEqualTo(Map.of("q", 5L, "w", 1L));
      List<StructuredFields.Member> rl = StructuredFields.parseList(r.header("RateLimit"));
      assertThat(rl).hasSize(1);
      assertThat(rl.get(0).value()).isEqualTo("api");
      assertThat(rl.get(0).integer("r")).isEqualTo(d.remaining());
      assertThat(r.header("X-RateLimit-Limit")).isEqualTo("5");
      assertThat(r.header("X-RateLimit-Remaining")).isEqualTo(Long.toString(d.remaining()));
      assertThat(r.header("X-RateLimit-Reset")).isEqualTo("1"); // under a second to full, rounded up
      if (d.isAllowed()) {
        assertThat(r.status()).as("request %d", i).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
        assertThat(rl.get(0).integer("t")).isEqualTo(1);
      } else {
        assertThat(r.status()).as("request %d", i).isEqualTo(429);
        assertThat(r.header("Retry-After")).isEqualTo("1"); // 200 ms for the next token, rounded up
        assertThat(rl.get(0).integer("t")).isEqualTo(1);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        Map<String, Object> problem = JsonReader.object(r.body());
        assertThat(problem).containsEntry("type", "https://iana.org/assignments/http-problem-types#quota-exceeded")
            .containsEntry("title", "Request cannot be satisfied as assigned quota has been exceeded")
            .containsEntry("violated-policies", List.of("api"))
            .containsEntry("detail", "Too many requests under the rate limit 'api' (5/s); retry in 1 s.");
        assertThat(problem.get("status")).hasToString("429");
        assertThat(problem.get("retry-after-seconds")).hasToString("1");
      }
    }
    assertThat(verdicts).extracting(Verdict::outcome).containsExactly(Verdict.Outcome.ALLOWED,
        Verdict.Outcome.ALLOWED, Verdict.Outcome.ALLOWED, Verdict.Outcome.ALLOWED, Verdict.Outcome.ALLOWED,
        Verdict.Outcome.REFUSED, Verdict.Outcome.REFUSED, Verdict.Outcome.ALLOWED);
    assertThat(server.served).hasValue(6); // refused requests never reach the application
  }

  @Test
  void withoutAsyncSupportADelayedRequestWaitsHoldingItsThread() throws Exception {
    HttpThrottle throttle = throttle(Rule.builder("api").limit("1/s burst 1").delay(Duration.ofSeconds(5)).build());
    server = TestServer.startWithoutAsyncSupport(new ThrottleFilter(throttle));
    assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET", "/");
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 1);
      clock.advance(Duration.ofSeconds(1));
      assertThat(c.read().status()).isEqualTo(200); // correct, but a thread was held: a warning says so
    }
    assertThat(verdicts).extracting(Verdict::outcome).containsExactly(Verdict.Outcome.ALLOWED,
        Verdict.Outcome.DELAYED);
  }

  @Test
  void waitingRequestsHoldNoContainerThread() throws Exception {
    // 100 requests wait on a server of 16 threads; were each holding one, nothing else could be served.
    HttpThrottle throttle = throttle(Rule.builder("api").path("/api").limit("1/s burst 1")
        .delay(Duration.ofSeconds(200)).build());
    server = TestServer.start(new ThrottleFilter(throttle), 16);
    QueuedThreadPool pool = (QueuedThreadPool) server.server.getThreadPool();
    assertThat(RawHttp.get(server.port(), "/api/x").status()).isEqualTo(200); // spends the only token
    List<RawHttp> waiting = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        RawHttp c = new RawHttp(server.port());
        waiting.add(c);
        c.send("GET", "/api/x");
      }
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 100);
      assertThat(pool.getBusyThreads()).isLessThan(16);
      assertThat(RawHttp.get(server.port(), "/elsewhere").status()).isEqualTo(200); // not throttled, served at once
      clock.advance(Duration.ofSeconds(100));
      for (RawHttp c : waiting) {
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
        assertThat(StructuredFields.parseList(r.header("RateLimit")).get(0).integer("r")).isZero();
      }
    } finally {
      for (RawHttp c : waiting) {
        c.close();
      }
    }
    assertThat(throttle.waiting()).isZero();
    assertThat(verdicts).filteredOn(v -> v.outcome() == Verdict.Outcome.DELAYED).hasSize(100);
    assertThat(server.served).hasValue(102);
  }
}
