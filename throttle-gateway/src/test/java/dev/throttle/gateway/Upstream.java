package dev.throttle.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The upstream behind the gateway in the tests: a real HTTP server on a free loopback port that records every
 * request it receives (method, URI, headers, the SHA-256 and length of the body) and answers with the path's
 * behaviour: a path containing {@code /echo} answers the body it received, {@code /slow/<ms>} answers after that
 * long, {@code /hold} (or a path ending in it, such as {@code /api/hold}) until {@link #release()}, anything else at
 * once with {@code ok <method> <uri>}; every answer has the header {@code X-Upstream: yes}.
 */
final class Upstream implements AutoCloseable {

  record Received(String method, String uri, Map<String, List<String>> headers, String sha256, long length) {
    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return String.join(", ", e.getValue());
        }
      }
      return null;
    }
  }

  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(32);
  private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
  private final AtomicInteger count = new AtomicInteger();
  private volatile CountDownLatch hold = new CountDownLatch(1);

  Upstream() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(pool);
    server.createContext("/", this::handle);
    server.start();
  }

  private void handle(HttpExchange ex) throws IOException {
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readAllBytes();
    }
    String uri = ex.getRequestURI().toString();
    received.add(new Received(ex.getRequestMethod(), uri, Map.copyOf(ex.getRequestHeaders()), sha256(body),
        body.length));
    count.incrementAndGet();
    try {
      if (uri.startsWith("/slow/")) {
        Thread.sleep(Long.parseLong(uri.substring("/slow/".length()))); // the upstream's own latency, simulated
      } else if (uri.startsWith("/hold") || uri.endsWith("/hold")) {
        hold.await(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    byte[] answer;
    if (uri.contains("/echo")) {
      answer = body;
    } else {
      answer = ("ok " + ex.getRequestMethod() + " " + uri).getBytes(StandardCharsets.UTF_8);
    }
    ex.getResponseHeaders().add("X-Upstream", "yes");
    ex.getResponseHeaders().add("Content-Type", "text/plain");
    ex.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(answer);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  String uri() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  int count() {
    return count.get();
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  /** Lets the requests held at {@code /hold} answer. */
  void release() {
    hold.countDown();
  }

  @Override
  public void close() {
    hold.countDown();
    server.stop(0);
    pool.shutdownNow();
  }
}
