package dev.throttle.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP server on a free loopback port whose answers a test scripts, recording when each request arrived and
 * when each answer was written (System.nanoTime, the clock the client uses).
 */
final class ScriptedServer implements AutoCloseable {

  /** What to answer; may block (slow answers) since handlers run on a pool. */
  interface Script {
    void answer(Exchange exchange) throws IOException, InterruptedException;
  }

  /** One request: its path, its arrival, and ways to answer. */
  static final class Exchange {
    final HttpExchange http;
    final String path;
    final long arrived;
    final int attempt; // 1 for the first request with this path
    volatile long answered;
    volatile int status; // 0 until answered (or dropped)

    Exchange(HttpExchange http, int attempt) {
      this.http = http;
      this.path = http.getRequestURI().getPath();
      this.arrived = System.nanoTime();
      this.attempt = attempt;
    }

    void respond(int status, Map<String, String> headers, String body) throws IOException {
      headers.forEach((k, v) -> http.getResponseHeaders().set(k, v));
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      answered = System.nanoTime();
      this.status = status;
      http.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
      try (OutputStream out = http.getResponseBody()) {
        out.write(bytes);
      }
      http.close();
    }

    /** Answers the status line and fields at once and the body {@code bodyDelayMs} later. */
    void respondBodyLater(int status, Map<String, String> headers, String body, long bodyDelayMs)
        throws IOException, InterruptedException {
      headers.forEach((k, v) -> http.getResponseHeaders().set(k, v));
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      answered = System.nanoTime();
      this.status = status;
      http.sendResponseHeaders(status, bytes.length); // written and flushed here
      try (OutputStream out = http.getResponseBody()) {
        Thread.sleep(bodyDelayMs);
        out.write(bytes);
      }
      http.close();
    }

    /** Closes the connection without an answer. */
    void drop() {
      answered = System.nanoTime();
      http.close();
    }
  }

  private final HttpServer server;
  private final ExecutorService pool;
  private final List<Exchange> exchanges = new ArrayList<>();
  private final Map<String, Integer> attempts = new java.util.HashMap<>();

  ScriptedServer(Script script) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
    pool = Executors.newFixedThreadPool(16, r -> {
      Thread t = new Thread(r, "scripted-server");
      t.setDaemon(true);
      return t;
    });
    server.createContext("/", http -> {
      try (InputStream in = http.getRequestBody()) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      Exchange e;
      synchronized (this) {
        int attempt = attempts.merge(http.getRequestURI().getPath(), 1, Integer::sum);
        e = new Exchange(http, attempt);
        exchanges.add(e);
      }
      try {
        script.answer(e);
      } catch (InterruptedException interrupted) {
        e.drop();
      } catch (RuntimeException | IOException failed) {
        e.drop();
        throw failed;
      }
    });
    server.setExecutor(pool);
    server.start();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  HttpRequest get(String path) {
    return HttpRequest.newBuilder(uri(path)).build();
  }

  synchronized List<Exchange> exchanges() {
    return new ArrayList<>(exchanges);
  }

  synchronized List<Exchange> exchanges(String path) {
    return exchanges.stream().filter(e -> e.path.equals(path)).toList();
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
    try {
      pool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
