package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.http.JsonReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleState;
import org.junit.jupiter.api.Test;

/**
 * Plain embedded Tomcat 10.1 stopping with delayed requests waiting, the filter configured by init parameters. Tomcat
 * stops differently from Jetty: it unmaps the application, waits up to its {@code unloadDelay} (2 s) for suspended
 * requests to end, takes no dispatch meanwhile (a request whose turn comes then is stuck, and would get Tomcat's HTML
 * 500 when it times out), and only then destroys the filters.
 */
class TomcatShutdownTest {

  private static final String RULES = "api: limit=1/s burst 1; mode=delay; max-wait=30s";

  /** Spends the only token, then suspends 3 requests, due at 1, 2 and 3 s. */
  private static List<RawHttp> waitingRequests(TomcatServer server, ThrottleFilter filter) throws Exception {
    assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200);
    List<RawHttp> clients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RawHttp c = new RawHttp(server.port());
      clients.add(c);
      c.send("GET", "/");
    }
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10))
        .until(() -> filter.throttle().waiting() == 3);
    return clients;
  }

  /** Each client got the filter's 503 problem (never the container's error page), and the connection closed. */
  private static List<String> assertAnsweredByTheFilter503(List<RawHttp> clients) throws Exception {
    List<String> details = new ArrayList<>();
    for (RawHttp c : clients) {
      RawHttp.Response r = c.read(); // every read has a timeout: a hang fails the test
      assertThat(r.status()).as(r.body()).isEqualTo(503);
      assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(Long.parseLong(r.header("Retry-After"))).isPositive();
      Map<String, Object> problem = JsonReader.object(r.body());
      assertThat(problem.get("status")).hasToString("503");
      details.add(problem.get("detail").toString());
      assertThat(c.closedByServer()).isTrue();
      c.close();
    }
    return details;
  }

  @Test
  void stoppingPlainTomcatAnswersEveryWaitingRequestWithTheFilters503() throws Exception {
    ThrottleFilter filter = new ThrottleFilter();
    TomcatServer server = TomcatServer.start(filter, Map.of("rules", RULES));
    List<RawHttp> clients = waitingRequests(server, filter);
    Thread stopping = OkServlet.closeInBackground(server);
    assertAnsweredByTheFilter503(clients);
    stopping.join(30_000);
    assertThat(stopping.isAlive()).as("Tomcat stopped").isFalse();
    assertThat(filter.throttle().isClosed()).as("destroying the filter closed the throttle").isTrue();
    assertThat(filter.throttle().waiting()).isZero();
    assertThat(server.served).as("only the first request reached the application").hasValue(1);
  }

  @Test
  void closingTheThrottleBeforeTomcatStopsAnswersEveryWaitingRequestAtOnce() throws Exception {
    // The recipe of docs/http.md: close the throttle on the context's BEFORE_STOP_EVENT, while connections are open
    // and before Tomcat waits for suspended requests.
    ThrottleFilter filter = new ThrottleFilter();
    TomcatServer server = TomcatServer.start(filter, Map.of("rules", RULES));
    // Were a request still suspended, Tomcat would wait this long for it before destroying the filter.
    ((org.apache.catalina.core.StandardContext) server.context).setUnloadDelay(60_000);
    server.context.addLifecycleListener(event -> {
      if (Lifecycle.BEFORE_STOP_EVENT.equals(event.getType())) {
        filter.throttle().close();
      }
    });
    List<RawHttp> clients = waitingRequests(server, filter);
    Thread stopping = OkServlet.closeInBackground(server);
    assertThat(assertAnsweredByTheFilter503(clients)).allSatisfy(d -> assertThat(d)
        .startsWith("The server is shutting down; retry in "));
    stopping.join(20_000);
    assertThat(stopping.isAlive()).as("Tomcat stopped without waiting its unload delay: no request was left").isFalse();
    assertThat(server.context.getState()).isIn(LifecycleState.DESTROYED, LifecycleState.STOPPED);
    assertThat(server.served).hasValue(1);
  }
}
