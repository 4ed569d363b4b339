package dev.throttle.http.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** The application behind the filter in the test containers: answers {@code ok} and counts how often it ran. */
final class OkServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient AtomicInteger served;

  OkServlet(AtomicInteger served) {
    this.served = served;
  }

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    served.incrementAndGet();
    byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
    resp.setContentType("text/plain");
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }

  /** Closes {@code server} in another thread, as a shutdown hook would, while a test reads the answers. */
  static Thread closeInBackground(AutoCloseable server) {
    Thread t = new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "test-stop");
    t.start();
    return t;
  }
}
