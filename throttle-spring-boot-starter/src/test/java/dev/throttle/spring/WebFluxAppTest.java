package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.spring.webfluxapp.WebFluxApp;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
}
