package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.JsonReader;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.util.component.LifeCycle;
import org.junit.jupiter.api.Test;

/** Requests waiting when the application shuts down: each is answered, none hangs, and nothing is left running. */
class ShutdownTest {

  private final ManualClock clock = new ManualClock();
  private final List<Verdict> verdicts = Collections.synchronizedList(new ArrayList<>());

  private HttpThrottle throttle(Duration maxWait) {
    return HttpThrottle.builder()
        .rule(Rule.builder("api").limit("1/s burst 1").delay(maxWait).build())
        .stores(StoreFactory.inMemory(100, clock, clock))
        .clock(clock)
        .onVerdict(verdicts::add)
        .build();
  }

  private static List<RawHttp> waitingRequests(TestServer server, HttpThrottle throttle, int n) throws Exception {
    assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200); // spends the only token
    List<RawHttp> clients = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RawHttp c = new RawHttp(server.port());
      clients.add(c);
      c.send("GET", "/");
    }
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == n);
    return clients;
  }

  @Test
  void closingTheThrottleAtTheStartOfShutdownAnswersEveryWaitingRequest503() throws Exception {
    HttpThrottle throttle = throttle(Duration.ofSeconds(30));
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    // How an embedded Jetty application hooks the throttle into its shutdown, before connections close.
    server.server.addEventListener(new LifeCycle.Listener() {
      @Override
      public void lifeCycleStopping(LifeCycle event) {
        throttle.close();
      }
    });
    List<RawHttp> clients = waitingRequests(server, throttle, 3); // due at 1, 2 and 3 s

    Thread stopping = OkServlet.closeInBackground(server);
    assertAnswered503(clients, "The server is shutting down; retry in ");
    stopping.join(10_000);
    assertThat(stopping.isAlive()).as("the server stopped").isFalse();
    assertThat(throttle.waiting()).isZero();
    assertThat(clock.pendingTasks()).isZero();
    assertThat(server.served).hasValue(1);
    assertThat(verdicts).filteredOn(v -> v.outcome() == Verdict.Outcome.SHUT_DOWN).hasSize(3);
  }

  @Test
  void stoppingTheContainerAloneAnswersEveryWaitingRequest503Too() throws Exception {
    // No hook: Jetty fails the suspended requests as it stops its connectors (before it destroys the filter), and
    // the filter answers each 503 while the connection is still open; destroying the filter then closes the throttle.
    HttpThrottle throttle = throttle(Duration.ofSeconds(30));
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    List<RawHttp> clients = waitingRequests(server, throttle, 3);
    Thread stopping = OkServlet.closeInBackground(server);
    stopping.join(10_000);
    assertThat(stopping.isAlive()).as("the server stopped").isFalse();
    assertAnswered503(clients, "The request could not wait for its turn; retry in ");
    assertThat(throttle.waiting()).isZero();
    assertThat(throttle.isClosed()).as("destroying the filter closed the throttle").isTrue();
    assertThat(clock.pendingTasks()).isZero();
    assertThat(verdicts).hasSize(4);
    assertThat(verdicts.subList(1, 4)).allSatisfy(v -> assertThat(v.outcome())
        .isIn(Verdict.Outcome.CLIENT_GONE, Verdict.Outcome.SHUT_DOWN));
  }

  /** Each client got a 503 with a problem body; their waits left were 1, 2 and 3 s (in whatever order they queued). */
  private static void assertAnswered503(List<RawHttp> clients, String detail) throws Exception {
    List<String> retryAfters = new ArrayList<>();
    for (RawHttp c : clients) {
      RawHttp.Response r = c.read(); // every read has a timeout: a hang fails the test
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
      Map<String, Object> problem = JsonReader.object(r.body());
      assertThat(problem.get("status")).hasToString("503");
      assertThat(problem.get("detail")).isEqualTo(detail + r.header("Retry-After") + " s.");
      retryAfters.add(r.header("Retry-After"));
      assertThat(c.closedByServer()).isTrue();
      c.close();
    }
    assertThat(retryAfters).containsExactlyInAnyOrder("1", "2", "3");
  }

  @Test
  void theAsyncTimeoutGivesThePlaceUpWith503() throws Exception {
    KeyedRateLimiter<String> limiter = KeyedRateLimiter.<String>builder(Limit.parse("1/s burst 1")).clock(clock)
        .scheduler(clock).build();
    HttpThrottle throttle = HttpThrottle.builder()
        .rule(Rule.builder("api").store(limiter).delay(Duration.ofSeconds(30)).build())
        .clock(clock)
        .build();
    TestServer server = TestServer.start(new ThrottleFilter(throttle, Duration.ofMillis(300)));
    try {
      List<RawHttp> clients = waitingRequests(server, throttle, 2); // due at 1 s and 2 s on the manual clock
      RawHttp.Response first = clients.get(0).read(); // the container gives up after 300 ms of real time
      RawHttp.Response second = clients.get(1).read();
      for (RawHttp.Response r : List.of(first, second)) {
        assertThat(r.status()).isEqualTo(503);
        assertThat(JsonReader.object(r.body()).get("detail").toString())
            .startsWith("The request waited longer than the server allows");
      }
      assertThat(List.of(first.header("Retry-After"), second.header("Retry-After"))).containsExactlyInAnyOrder("1", "2");
      for (RawHttp c : clients) {
        c.close();
      }
      assertThat(throttle.waiting()).isZero();
      assertThat(clock.pendingTasks()).as("both places given up").isZero();
      // Their tokens came back (the store holds "<rule id>:<key>"): the next request's turn is at 1 s, as if they had never asked.
      assertThat(limiter.reserve("api:ip:127.0.0.1", 1, Duration.ofSeconds(30)).delay()).isEqualTo(Duration.ofSeconds(1));
    } finally {
      server.close();
    }
  }
}
