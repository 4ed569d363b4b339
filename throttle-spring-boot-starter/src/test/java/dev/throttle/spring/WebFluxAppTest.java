package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.spring.webfluxapp.WebFluxApp;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** A WebFlux application on Reactor Netty, configured by webflux.yml only: the WebFilter is installed. */
@SpringBootTest(classes = WebFluxApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "spring.config.name=webflux")
class WebFluxAppTest extends ThrottledAppContract {

  @Autowired
  ThrottleWebFilter filter;

  @Test
  void theWebFilterDecidesThroughTheConfiguredThrottle() {
    assertThat(filter.throttle()).isSameAs(throttle);
  }

  /**
   * 1/min in delay mode: the second request waits a minute for its turn. Its client closes the connection; Reactor
   * Netty cancels the exchange, and the place is given up (with its tokens) at once, not a minute later.
   */
  @Test
  void aWaitingRequestIsGivenUpWhenItsClientDisconnects() throws Exception {
    get("/api/wait"); // takes the only token
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write(("GET /api/wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 1);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 0);
  }

  /**
   * More requests waiting their turns (minutes away) than Reactor Netty has event loops (one per processor, at least
   * four), spread over all of them: none is held, as a request to another path is answered meanwhile. Their clients
   * then leave, and every place is given up.
   */
  @Test
  void waitingRequestsHoldNoThread() throws Exception {
    get("/api/held"); // takes the only token
    List<Socket> sockets = new ArrayList<>();
    try {
      int waiters = Math.max(Runtime.getRuntime().availableProcessors(), 4) + 2;
      for (int i = 0; i < waiters; i++) {
        Socket socket = new Socket("127.0.0.1", port);
        sockets.add(socket);
        socket.getOutputStream().write(("GET /api/held HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == waiters);
      assertThat(get("/open").statusCode()).isEqualTo(200);
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 0);
  }
}
