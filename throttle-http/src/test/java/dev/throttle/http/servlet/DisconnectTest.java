package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that disconnects while its request waits: its place is given up and its tokens come back, so the next
 * request proceeds sooner than it would have otherwise. The sockets and the disconnects are real; the limiter runs on a
 * manual clock, so "sooner" is exact.
 *
 * <p>What a Servlet container can see of a disconnect depends on the protocol: over HTTP/2 a closed connection is seen
 * at once; over HTTP/1.1 it is seen only when the connection is next read or written, which for a waiting request is
 * when its turn comes. Both are tested, as they are.
 */
class DisconnectTest {

  private final ManualClock clock = new ManualClock();
  private final List<Verdict> verdicts = Collections.synchronizedList(new ArrayList<>());
  private HttpThrottle throttle;
  private TestServer server;

  @BeforeEach
  void start() throws Exception {
    throttle = HttpThrottle.builder()
        .rule(Rule.builder("api").limit("1/s burst 1").delay(Duration.ofSeconds(10)).build())
        .stores(StoreFactory.inMemory(100, clock, clock))
        .clock(clock)
        .onVerdict(verdicts::add)
        .build();
    server = TestServer.start(new ThrottleFilter(throttle));
    assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200); // spends the only token
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private void awaitUntil(Callable<Boolean> condition) {
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(condition);
  }

  private List<Verdict.Outcome> outcomes() {
    synchronized (verdicts) {
      return verdicts.stream().map(Verdict::outcome).toList();
    }
  }

  @Test
  void http2ClientThatDisconnectsGivesItsTokensBack() throws Exception {
    H2c gone = new H2c(server.port());
    gone.get("/");
    awaitUntil(() -> throttle.waiting() == 1); // queued: its turn would be at 1 s

    gone.close(); // a real disconnect: the socket is closed
    awaitUntil(() -> throttle.waiting() == 0);
    assertThat(outcomes()).containsExactly(Verdict.Outcome.ALLOWED, Verdict.Outcome.CLIENT_GONE);
    assertThat(clock.pendingTasks()).as("nothing scheduled for the request that left").isZero();

    try (RawHttp next = new RawHttp(server.port())) {
      next.send("GET", "/");
      awaitUntil(() -> throttle.waiting() == 1);
      clock.advance(Duration.ofMillis(999));
      assertThat(throttle.waiting()).isEqualTo(1);
      clock.advance(Duration.ofMillis(1)); // 1 s: the slot the departed request held; without the disconnect, 2 s
      RawHttp.Response r = next.read();
      assertThat(r.status()).isEqualTo(200);
    }
    assertThat(verdicts.get(2).outcome()).isEqualTo(Verdict.Outcome.DELAYED);
    assertThat(verdicts.get(2).waited()).isEqualTo(Duration.ofSeconds(1));
    assertThat(server.served).hasValue(2); // the departed request never reached the application
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void withoutTheDisconnectTheNextRequestWaitsLonger() throws Exception {
    try (H2c stays = new H2c(server.port()); RawHttp next = new RawHttp(server.port())) {
      stays.get("/");
      awaitUntil(() -> throttle.waiting() == 1);
      next.send("GET", "/");
      awaitUntil(() -> throttle.waiting() == 2);
      clock.advance(Duration.ofSeconds(1));
      awaitUntil(() -> server.served.get() == 2); // the HTTP/2 request had its turn
      assertThat(throttle.waiting()).isEqualTo(1);
      clock.advance(Duration.ofSeconds(1));
      assertThat(next.read().status()).isEqualTo(200);
    }
    assertThat(verdicts.get(2).waited()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void http11DisconnectIsSeenOnlyWhenTheTurnComes() throws Exception {
    RawHttp gone = new RawHttp(server.port());
    gone.send("GET", "/");
    awaitUntil(() -> throttle.waiting() == 1);
    gone.close();
    // The container reads nothing from a waiting HTTP/1.1 request without a body, so it cannot tell the client left:
    // the request keeps its place for the whole observation.
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(5))
        .until(() -> throttle.waiting() == 1);
    clock.advance(Duration.ofSeconds(1)); // its turn: passed on, answered into a closed connection
    awaitUntil(() -> server.served.get() == 2);
    assertThat(throttle.waiting()).isZero();
    assertThat(clock.pendingTasks()).as("nothing keeps running for it").isZero();
    assertThat(outcomes()).containsExactly(Verdict.Outcome.ALLOWED, Verdict.Outcome.DELAYED);
  }
}
