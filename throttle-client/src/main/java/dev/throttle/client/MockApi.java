package dev.throttle.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.throttle.core.Bandwidth;
import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP API with a rate limit, on a free loopback port, for the demo and tests: it allows {@code N} requests
 * per second with its own token bucket (burst {@code N}, the core's {@link RateLimiter}), answers {@code 429} at
 * once beyond that, and answers the others {@code 200} after a latency drawn uniformly from
 * {@code latency * (1 ± spread)} (default about 1 s ± 10 %, as the seeds' API).
 *
 * <p>A {@code 429} carries {@code Retry-After} (whole seconds, rounded up, at least 1, as the header allows no
 * less), and the IETF {@code RateLimit-Policy} and {@code RateLimit} fields. The decision is taken when the request
 * has been read, on the server's dispatcher thread; responses after the latency are written from one scheduler
 * thread, so a thousand requests in flight need no thousand threads.
 *
 * <p>{@code /health} answers 200 at once, outside the limit and the counts.
 *
 * <p>Counts what it did: {@link #received()}, {@link #served()}, {@link #rejected()} (the 429s sent). Thread-safe.
 * {@link #close()} stops its threads.
 */
public final class MockApi implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MockApi.class);
  private static final AtomicInteger SERVERS = new AtomicInteger();

  private final HttpServer server;
  private final ScheduledExecutorService responder;
  private final ExecutorService dispatcher;
  private final RateLimiter limiter; // BURSTY
  private final Limit limit;
  private final Kind kind;
  private final long windowNanos; // STRICT: the interval; FIXED_WINDOW: the window
  private final long quota; // FIXED_WINDOW
  private long last = Long.MIN_VALUE; // STRICT: the last passed request, ms; FIXED_WINDOW: the window's start, ns
  private long used; // FIXED_WINDOW
  private final long latencyNanos;
  private final double spread;
  private final SplittableRandom random;
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong served = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  private MockApi(Builder b) throws IOException {
    this.limit = b.limit;
    this.kind = b.kind;
    this.limiter = RateLimiter.of(limit);
    Bandwidth bw = limit.bandwidths().get(0);
    this.quota = bw.amount();
    this.windowNanos = kind == Kind.STRICT ? bw.periodNanos() / bw.amount() : bw.periodNanos();
    this.latencyNanos = b.latency.toNanos();
    this.spread = b.spread;
    this.random = new SplittableRandom(b.seed);
    int id = SERVERS.incrementAndGet();
    this.responder = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "throttle-mock-api-" + id + "-responder"));
    this.dispatcher = Executors.newSingleThreadExecutor(r -> daemon(r, "throttle-mock-api-" + id));
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
    server.createContext("/", this::handle);
    server.createContext("/health", this::health);
    server.setExecutor(dispatcher);
    server.start();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** An API allowing {@code requestsPerSecond} (burst the same), about 1 s ± 10 % latency. */
  public static Builder builder(int requestsPerSecond) {
    if (requestsPerSecond < 1) {
      throw new IllegalArgumentException("the allowed rate must be at least 1 request per second, got "
          + requestsPerSecond);
    }
    return new Builder(Limit.builder().rate(requestsPerSecond, Duration.ofSeconds(1)).build());
  }

  /** An API allowing {@code limit} (one bucket, as {@code 3/min}), about 1 s ± 10 % latency. */
  public static Builder builder(Limit limit) {
    Objects.requireNonNull(limit, "limit");
    if (!limit.isSingle()) {
      throw new IllegalArgumentException("the mock API takes a one-bucket limit, got " + limit);
    }
    return new Builder(limit);
  }

  /** The base address, {@code http://127.0.0.1:PORT/}; any path is served. */
  public URI uri() {
    return URI.create("http://" + server.getAddress().getAddress().getHostAddress() + ":"
        + server.getAddress().getPort() + "/");
  }

  /** The limit it enforces, as {@code 4/s}; its burst is the API's. */
  public Limit limit() {
    return limit;
  }

  /** Requests received. */
  public long received() {
    return received.get();
  }

  /** Requests answered (or being answered) 200. */
  public long served() {
    return served.get();
  }

  /** Requests answered 429. */
  public long rejected() {
    return rejected.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    received.incrementAndGet();
    boolean allowed = switch (kind) {
      case BURSTY -> bursty(exchange);
      case STRICT -> strict();
      case FIXED_WINDOW -> fixedWindow(exchange, true);
    };
    if (log.isTraceEnabled()) {
      log.trace("{} {} at {} us: {}", exchange.getRequestMethod(), exchange.getRequestURI(), System.nanoTime() / 1000,
          allowed ? "allowed" : "429");
    }
    if (!allowed) {
      rejected.incrementAndGet();
      respond(exchange, 429, "{\"error\":\"too many requests\"}");
      return;
    }
    long n = served.incrementAndGet();
    long delay;
    synchronized (random) {
      delay = Math.round(latencyNanos * (1 + spread * (2 * random.nextDouble() - 1)));
    }
    String body = "{\"ok\":true,\"n\":" + n + ",\"path\":\"" + jsonSafe(exchange.getRequestURI().getRawPath()) + "\"}";
    responder.schedule(() -> respond(exchange, 200, body), Math.max(0, delay), TimeUnit.NANOSECONDS);
  }

  /** Today's bucket: 429 with {@code Retry-After} and the IETF fields, nothing on a pass. */
  private boolean bursty(HttpExchange exchange) {
    Decision d = limiter.decide(1);
    if (!d.isAllowed()) {
      long retryAfter = Math.max(1, ceilSeconds(d.waitNanos()));
      exchange.getResponseHeaders().set("Retry-After", Long.toString(retryAfter));
      exchange.getResponseHeaders().set("RateLimit-Policy", "\"default\";q=" + quota + ";w="
          + Math.max(1, limit.bandwidths().get(0).period().toSeconds()));
      exchange.getResponseHeaders().set("RateLimit", "\"default\";r=" + d.remaining() + ";t="
          + ceilSeconds(d.resetNanos()));
    }
    return d.isAllowed();
  }

  /**
   * nginx {@code limit_req} without {@code burst}: a request passes when at least one interval ({@code 1/rate}) has
   * passed since the last one that passed, counted in whole milliseconds as nginx counts them; no field, no
   * {@code Retry-After}.
   */
  private synchronized boolean strict() {
    long ms = System.nanoTime() / 1_000_000;
    // nginx: excess = excess - rate * elapsed + 1, refused above the burst (0); here with excess 0 after a pass
    if (last != Long.MIN_VALUE && (ms - last) * 1_000_000 < windowNanos) {
      return false;
    }
    last = ms;
    return true;
  }

  /**
   * A fixed window as express-rate-limit counts it: the window opens at the first request after the last one
   * ended, allows the quota, and ends a period later. Every response carries the draft-10 fields, {@code t} and
   * {@code Retry-After} in whole seconds rounded up.
   */
  private synchronized boolean fixedWindow(HttpExchange exchange, boolean consume) {
    long now = System.nanoTime();
    if (last == Long.MIN_VALUE || now - last >= windowNanos) {
      if (!consume) {
        setWindowFields(exchange, quota, ceilSeconds(windowNanos));
        return true;
      }
      last = now;
      used = 0;
    }
    long t = ceilSeconds(last + windowNanos - now);
    boolean allowed = consume && used < quota;
    if (allowed) {
      used++;
    }
    setWindowFields(exchange, quota - used, t);
    if (consume && !allowed) {
      exchange.getResponseHeaders().set("Retry-After", Long.toString(Math.max(1, t)));
    }
    return allowed;
  }

  private void setWindowFields(HttpExchange exchange, long remaining, long t) {
    exchange.getResponseHeaders().set("RateLimit-Policy", "\"fixed\";q=" + quota + ";w="
        + ceilSeconds(windowNanos));
    exchange.getResponseHeaders().set("RateLimit", "\"fixed\";r=" + remaining + ";t=" + t);
  }

  private static long ceilSeconds(long nanos) {
    return nanos <= 0 ? 0 : (nanos + 999_999_999L) / 1_000_000_000L;
  }

  /**
   * Outside the limit and the counts: for readiness checks and warming up a client. A fixed-window API tells its
   * quota here without taking from it, as GitHub's {@code /rate_limit} does.
   */
  private void health(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    if (kind == Kind.FIXED_WINDOW) {
      fixedWindow(exchange, false);
    }
    respond(exchange, 200, "{\"ok\":true}");
  }

  private static String jsonSafe(String path) {
    // A raw path is URL-encoded already; only quote and backslash could break the JSON string.
    return path.replace("\\", "%5C").replace("\"", "%22");
  }

  private static void respond(HttpExchange exchange, int status, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    try {
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      log.debug("the client went away before its response", e);
    } finally {
      exchange.close();
    }
  }

  /** Stops the server and its threads; exchanges in progress are dropped. Idempotent. */
  @Override
  public void close() {
    server.stop(0);
    responder.shutdownNow();
    dispatcher.shutdownNow();
    try {
      responder.awaitTermination(5, TimeUnit.SECONDS);
      dispatcher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "MockApi[" + uri() + ", " + limit + ", " + received() + " received, " + rejected() + " rejected]";
  }

  /** How the API counts. */
  public enum Kind {
    /** A token bucket, burst = rate (today's demo); {@code 429} with {@code Retry-After} and the IETF fields. */
    BURSTY,
    /** nginx {@code limit_req} without {@code burst}: one request per interval, ms granularity, no fields. */
    STRICT,
    /** A fixed window (express-rate-limit's): the quota per period, draft-10 fields on every response. */
    FIXED_WINDOW
  }

  /** How it counts. */
  public Kind kind() {
    return kind;
  }

  /** Configures a {@link MockApi}. */
  public static final class Builder {
    private final Limit limit;
    private Kind kind = Kind.BURSTY;
    private Duration latency = Duration.ofSeconds(1);
    private double spread = 0.1;
    private long seed = 20261123L;

    private Builder(Limit limit) {
      this.limit = limit;
    }

    /** The mean latency of a 200 (default 1 s); zero answers at once. */
    public Builder latency(Duration latency) {
      Objects.requireNonNull(latency, "latency");
      if (latency.isNegative() || latency.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("the latency must be between 0 and 10 min, got " + latency);
      }
      this.latency = latency;
      return this;
    }

    /** The spread of the latency, as a fraction of it: uniform in {@code latency * (1 ± spread)} (default 0.1). */
    public Builder spread(double spread) {
      if (!(spread >= 0 && spread <= 1)) {
        throw new IllegalArgumentException("the latency spread must be between 0 and 1, got " + spread);
      }
      this.spread = spread;
      return this;
    }

    /** How the API counts (default {@link Kind#BURSTY}). */
    public Builder kind(Kind kind) {
      this.kind = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /** The seed of the latency draws (fixed by default, so runs are repeatable). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Starts the API on a free loopback port.
     *
     * @throws IOException if no port can be bound
     */
    public MockApi start() throws IOException {
      return new MockApi(this);
    }
  }
}
