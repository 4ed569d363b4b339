package dev.throttle.gateway;

import dev.throttle.http.HttpThrottle;
import dev.throttle.http.StoreFactory;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running rate-limiting reverse proxy: throttle-http's policy in front of one HTTP upstream, on Vert.x.
 *
 * <pre>{@code
 * try (Gateway gateway = Gateway.start(GatewayConfig.load(Path.of("throttle.yaml")))) {
 *   gateway.awaitClose();   // until close() is called (the CLI calls it on SIGTERM)
 * }
 * }</pre>
 *
 * <ul>
 *   <li><b>Requests</b> are decided by the first route that covers them (all its rules), then passed on to the
 *       upstream with the rate-limit fields added to its answer, or answered 429 (or 400, 503) with a problem body.
 *       Delay mode waits without holding a thread, and a client that disconnects gives its place and tokens back.
 *   <li><b>Passing on</b>: HTTP/1.1 keep-alive both ways, pooled upstream connections, bodies streamed both ways with
 *       back-pressure, hop-by-hop fields dropped, {@code X-Forwarded-For}, {@code -Proto} and {@code -Host} added. An
 *       unreachable upstream is answered 502, a silent one 504; a body over the limit 413.
 *   <li><b>Stores</b>: in memory by default; with a Redis URI, one connection for the gateway and one limiter per
 *       rule (the key prefix, then the rule's name in each key, as for any store of the throttle), so that every gateway with the same configuration and Redis
 *       enforces one limit, and Redis failures are answered by the configured failure policy.
 *   <li><b>Operations</b>: {@code GET /health} and {@code GET /metrics} (Prometheus) on the admin address.
 * </ul>
 *
 * <p>{@link #close()} shuts down gracefully: stops accepting connections, answers every waiting request 503 with
 * {@code Retry-After}, lets requests in flight finish within the grace period, then closes what is left. Thread-safe.
 */
public final class Gateway implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final GatewayConfig config;
  private final Vertx vertx;
  private final RedisLimits redis;
  private final Map<String, RedisRateLimiter<String>> redisLimiters;
  private final HttpThrottle throttle;
  private final Metrics metrics;
  private final List<HttpServer> servers = Collections.synchronizedList(new ArrayList<>());
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private HttpServer admin;
  private int port;
  private volatile boolean closing;

  private Gateway(GatewayConfig config) {
    this.config = config;
    this.metrics = new Metrics(config.routes());
    Map<String, RedisRateLimiter<String>> limiters = new LinkedHashMap<>();
    StoreFactory stores;
    if (config.redisUri() == null) {
      this.redis = null;
      stores = StoreFactory.inMemory(config.maxKeys());
    } else {
      this.redis = RedisLimits.connect(config.redisUri());
      stores = rule -> {
        RedisRateLimiter<String> limiter = redis.limiter(rule.limit())
            .prefix(config.redisPrefix()) // the throttle puts the rule's id in every key
            .timeout(config.redisTimeout())
            .onFailure(config.redisFailure())
            .build();
        limiters.put(rule.name(), limiter);
        return limiter;
      };
    }
    HttpThrottle.Builder b = HttpThrottle.builder().stores(stores).legacyHeaders(config.legacyHeaders())
        .rateLimitHeaders(config.rateLimitHeaders())
        .onVerdict(metrics::onVerdict);
    for (GatewayConfig.Route route : config.routes()) {
      b.ruleGroup(route.rules());
    }
    try {
      this.throttle = b.build();
    } catch (RuntimeException e) {
      if (redis != null) {
        redis.close();
      }
      throw new ConfigException(e.getMessage());
    }
    this.redisLimiters = Collections.unmodifiableMap(limiters);
    metrics.bind(throttle::waiting, redisLimiters, redis);
    if (redis != null) {
      warmUp();
    }
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
  }

  /** The caller key of the warm-up decisions: no key resolver produces it (theirs are {@code kind:value}). */
  static final String WARM_UP_KEY = "(gateway warm-up)";

  /**
   * Makes each rule's first decisions before the first request does: the first call on a connection loads the
   * script into Redis and runs code not yet compiled, and can take longer than a timeout of a few milliseconds, which
   * the failure policy would then answer (a refusal, with the default fail-closed). Takes one token of a key of its
   * own per call; gives up after 3 s in all (Redis away: the gateway starts, and the failure policy answers).
   */
  private void warmUp() {
    if (!redis.isConnected()) {
      log.warn("gateway: Redis is not connected at start; decisions are answered by the failure policy ({}) until it"
          + " is", config.redisFailure());
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    for (RedisRateLimiter<String> limiter : redisLimiters.values()) {
      while (limiter.stats().fromRedis() == 0 && System.nanoTime() < deadline) {
        try {
          limiter.decideAsync(WARM_UP_KEY, 1).get(1, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          break;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * Starts a gateway and returns once it listens.
   *
   * @throws ConfigException if a rule cannot be enforced by the store (for example a limit Redis cannot count
   *     exactly)
   * @throws IllegalStateException if it cannot listen (an address in use, or not of this machine), with the address
   *     in the message; nothing is left running
   */
  public static Gateway start(GatewayConfig config) {
    Gateway g = new Gateway(config);
    try {
      g.listen();
    } catch (RuntimeException e) {
      g.shutdown(Duration.ZERO);
      throw e;
    }
    return g;
  }

  private void listen() {
    // One server per event loop, all on one port: Vert.x shares a port among the servers of one Vert.x instance
    // (a negative port is its way of sharing one free port, picked by the first).
    int listenPort = config.port() == 0 ? -1 : config.port();
    await(vertx.deployVerticle(() -> new ProxyVerticle(listenPort), new DeploymentOptions()
        .setInstances(config.eventLoops())), "the address " + config.host() + ":" + config.port(),
        "--port and --host (listen: in a configuration file)");
    port = servers.get(0).actualPort();
    if (config.adminPort() >= 0) {
      admin = await(vertx.createHttpServer(new HttpServerOptions().setHost(config.adminHost())
          .setPort(config.adminPort())).requestHandler(this::admin).listen(), "the admin address "
          + config.adminHost() + ":" + config.adminPort(), "--admin-port, or --admin-port -1 for none (admin: in a"
          + " configuration file, or admin: off)");
    }
    log.info("gateway started listen={}:{} admin={} upstream={} store={} event_loops={} routes={}",
        config.host(), port, admin == null ? "off" : config.adminHost() + ":" + admin.actualPort(), config.upstream(),
        redis == null ? "memory" : redis + " on-failure=" + config.redisFailure(), config.eventLoops(),
        config.routes().stream().map(r -> r.name() + " " + r.path() + " " + r.rules()).toList());
  }

  /** Waits for a server to listen; its failure names the address, and the settings that change it. */
  private static <T> T await(Future<T> future, String what, String settings) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String reason = cause.getMessage() == null ? cause.toString() : cause.getMessage();
      throw new IllegalStateException("cannot listen on " + what + ": " + reason + "; choose another with "
          + settings, cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot listen on " + what + ": no answer within 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting", e);
    }
  }

  /** One event loop's server and upstream client. */
  private final class ProxyVerticle extends VerticleBase {
    private final int listenPort;

    ProxyVerticle(int listenPort) {
      this.listenPort = listenPort;
    }

    @Override
    public Future<?> start() {
      HttpClient client = vertx.createHttpClient(new HttpClientOptions()
          .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
          .setKeepAlive(true)
          .setPipelining(false)
          .setIdleTimeout(60), new PoolOptions().setHttp1MaxSize(config.upstreamConnections()));
      HttpServer server = vertx.createHttpServer(new HttpServerOptions()
          .setHost(config.host())
          .setPort(listenPort)
          .setHandle100ContinueAutomatically(true)
          // HTTP/1.1 only: the h2c upgrade handler holds a connection until a whole head has arrived before
          // Vert.x knows of it (so no header timeout could apply), and an upgraded request is framed by rules
          // that Framing does not check.
          .setHttp2ClearTextEnabled(false)
          .setIdleTimeout(120));
      Proxy proxy = new Proxy(throttle, metrics, client, config, context);
      server.connectionHandler(proxy::connected).requestHandler(proxy).invalidRequestHandler(proxy::invalid);
      return server.listen().onSuccess(servers::add);
    }
  }

  // ---- admin ----

  private void admin(HttpServerRequest request) {
    String path = request.path();
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      request.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET, HEAD").end();
    } else if (path.equals("/metrics")) {
      request.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
          .end(metricsText());
    } else if (path.equals("/health")) {
      boolean redisUp = redis == null || redis.isConnected();
      String status = closing ? "stopping" : redisUp ? "up" : "degraded";
      String body = "{\"status\":\"" + status + "\",\"store\":\"" + (redis == null ? "memory" : "redis") + "\""
          + (redis == null ? "" : ",\"redis\":\"" + (redisUp ? "connected" : "disconnected") + "\"")
          + ",\"waiting\":" + throttle.waiting() + ",\"in_flight\":" + metrics.inFlight().get() + "}";
      request.response().setStatusCode(closing ? 503 : 200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(body);
    } else {
      request.response().setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain")
          .end("Not found: the admin address serves /health and /metrics\n");
    }
  }

  // ---- running ----

  /** The proxy's port (the one picked when configured with 0). */
  public int port() {
    return port;
  }

  /** The admin port (the one picked when configured with 0), or -1 without an admin server. */
  public int adminPort() {
    return admin == null ? -1 : admin.actualPort();
  }

  /** The configuration it runs with. */
  public GatewayConfig config() {
    return config;
  }

  /** The Prometheus text of {@code /metrics}, as a scrape would read it now. */
  public String metricsText() {
    return metrics.scrape();
  }

  /** Blocks until the gateway is closed. */
  public void awaitClose() throws InterruptedException {
    try {
      closed.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Shuts down gracefully within the configured grace period (see the class comment). Idempotent. */
  @Override
  public void close() {
    shutdown(config.grace());
  }

  private synchronized void shutdown(Duration grace) {
    if (closing) {
      return;
    }
    closing = true;
    log.info("gateway stopping: no new connections; waiting={} in_flight={} grace={}", throttle.waiting(),
        metrics.inFlight().get(), dev.throttle.core.Durations.format(grace));
    List<Future<Void>> stops = new ArrayList<>();
    synchronized (servers) {
      for (HttpServer s : servers) {
        stops.add(s.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS));
      }
    }
    throttle.close(); // waiting requests answered 503 while their connections are open
    Promise<Void> all = Promise.promise();
    Future.join(stops).onComplete(ar -> all.complete());
    awaitQuietly(all.future(), grace.toMillis() + 5_000, "connections still open after the grace period were closed");
    if (admin != null) {
      admin.close();
    }
    awaitQuietly(vertx.close(), 10_000, "Vert.x did not close cleanly");
    if (redis != null) {
      redis.close();
    }
    log.info("gateway stopped");
    closed.complete(null);
  }

  /** Waits for a step of the shutdown; one that fails or takes too long is logged, and the shutdown goes on. */
  private static void awaitQuietly(Future<?> step, long millis, String warning) {
    try {
      step.toCompletionStage().toCompletableFuture().get(millis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.warn("gateway: {}: {}", warning, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "Gateway[" + config.host() + ":" + port + " -> " + config.upstream() + "]";
  }

  Metrics metrics() {
    return metrics;
  }
}
