package dev.throttle.gateway;

import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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
  private final Metrics metrics;
  private final AccessLog accessLog; // null: none
  private final List<HttpServer> servers = Collections.synchronizedList(new ArrayList<>());
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  /** The routes in force and their throttle; a reload replaces both at once. */
  private volatile Active active;
  /** Throttles replaced by a reload that still hold waiting requests: they are answered, or closed at shutdown. */
  private final List<HttpThrottle> retired = new CopyOnWriteArrayList<>();
  private HttpServer admin;
  private int port;
  private volatile boolean closing;

  /**
   * The configuration in force, its throttle, and each rule's store in the order of the routes (so that a reload
   * can hand a store on to a rule that keeps its buckets).
   */
  private record Active(GatewayConfig config, HttpThrottle throttle, List<RuleStore> stores) {}

  /** A rule and the store it decides through. */
  private record RuleStore(Rule rule, KeyedRateLimiter<String> store) {}

  private Gateway(GatewayConfig config) {
    this.config = config;
    this.metrics = new Metrics();
    this.redis = config.redisUri() == null ? null : RedisLimits.connect(config.redisUri());
    try {
      this.active = activate(config, List.of());
      this.accessLog = config.accessLog() == null ? null : AccessLog.open(config.accessLog());
    } catch (RuntimeException e) {
      if (redis != null) {
        redis.close();
      }
      throw e;
    }
    metrics.bindWaiting(this::waiting);
    if (redis != null) {
      metrics.bindConnection(redis);
    }
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
    if (accessLog != null) {
      vertx.setPeriodic(1000, id -> accessLog.flush());
    }
  }

  /**
   * Builds the throttle of {@code cfg}'s routes. A rule with the name, id and limit of one in {@code previous} takes
   * that rule's store, and so its buckets; any other rule gets a new store. Redis stores are warmed up and their
   * meters bound.
   *
   * @throws ConfigException if the throttle cannot be built (nothing is changed then)
   */
  private Active activate(GatewayConfig cfg, List<RuleStore> previous) {
    Map<String, ArrayDeque<KeyedRateLimiter<String>>> reusable = new HashMap<>();
    for (RuleStore rs : previous) {
      reusable.computeIfAbsent(carryKey(rs.rule()), k -> new ArrayDeque<>()).add(rs.store());
    }
    List<RuleStore> stores = new ArrayList<>();
    Map<String, RedisRateLimiter<String>> fresh = new LinkedHashMap<>();
    StoreFactory memory = StoreFactory.inMemory(cfg.maxKeys());
    StoreFactory factory = rule -> {
      ArrayDeque<KeyedRateLimiter<String>> carried = reusable.get(carryKey(rule));
      KeyedRateLimiter<String> store = carried == null ? null : carried.poll();
      if (store == null) {
        if (redis == null) {
          store = memory.create(rule);
        } else {
          RedisRateLimiter<String> limiter = redis.limiter(rule.limit())
              .prefix(cfg.redisPrefix()) // the throttle puts the rule's id in every key
              .timeout(cfg.redisTimeout())
              .onFailure(cfg.redisFailure())
              .leaseAtMost(cfg.redisLease())
              .build();
          fresh.put(rule.name(), limiter);
          store = limiter;
        }
      }
      stores.add(new RuleStore(rule, store));
      return store;
    };
    HttpThrottle.Builder b = HttpThrottle.builder().stores(factory).legacyHeaders(cfg.legacyHeaders())
        .rateLimitHeaders(cfg.rateLimitHeaders())
        .onVerdict(metrics::onVerdict);
    for (GatewayConfig.Route route : cfg.routes()) {
      b.ruleGroup(route.rules());
    }
    HttpThrottle throttle;
    try {
      throttle = b.build();
    } catch (RuntimeException e) {
      throw new ConfigException(e.getMessage());
    }
    metrics.routes(cfg.routes());
    fresh.forEach(metrics::bindRedis);
    if (redis != null) {
      warmUp(fresh.values());
    }
    return new Active(cfg, throttle, List.copyOf(stores));
  }

  /** What a rule must keep for its buckets to carry over a reload: its name, its id and its limit. */
  private static String carryKey(Rule rule) {
    return rule.name() + "\n" + rule.id() + "\n" + rule.limit();
  }

  /** The caller key of the warm-up decisions: no key resolver produces it (theirs are {@code kind:value}). */
  static final String WARM_UP_KEY = "(gateway warm-up)";

  /**
   * Makes each rule's first decisions before the first request does: the first call on a connection loads the
   * script into Redis and runs code not yet compiled, and can take longer than a timeout of a few milliseconds, which
   * the failure policy would then answer (a refusal, with the default fail-closed). Takes one token of a key of its
   * own per call; gives up after 3 s in all (Redis away: the gateway starts, and the failure policy answers).
   */
  private void warmUp(Collection<RedisRateLimiter<String>> limiters) {
    if (!redis.isConnected()) {
      log.warn("gateway: Redis is not connected at start; decisions are answered by the failure policy ({}) until it"
          + " is", config.redisFailure());
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    for (RedisRateLimiter<String> limiter : limiters) {
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
      Proxy proxy = new Proxy(() -> active.throttle(), metrics, client, config, context, accessLog);
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
          + ",\"waiting\":" + waiting() + ",\"in_flight\":" + metrics.inFlight().get() + "}";
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

  /** The configuration it runs with: the one it started with, or the last one {@linkplain #reload reloaded}. */
  public GatewayConfig config() {
    return active.config();
  }

  /** Requests waiting for their turn or for the store, under the routes in force and those a reload replaced. */
  private int waiting() {
    int n = active.throttle().waiting();
    for (HttpThrottle t : retired) {
      n += t.waiting();
    }
    return n;
  }

  /**
   * What a {@linkplain #reload reload} did to the rules, by name: {@code kept} rules decide through the same buckets
   * as before (the name, id and limit are unchanged; the path, methods, key, mode and the rest may have changed),
   * {@code restarted} ones have a new limit or id and start with full buckets, {@code added} ones are new, and
   * {@code removed} ones are gone.
   */
  public record Reload(List<String> kept, List<String> restarted, List<String> added, List<String> removed) {

    public Reload {
      kept = List.copyOf(kept);
      restarted = List.copyOf(restarted);
      added = List.copyOf(added);
      removed = List.copyOf(removed);
    }

    @Override
    public String toString() {
      return "kept=" + kept + " restarted=" + restarted + " added=" + added + " removed=" + removed;
    }
  }

  /** The settings a reload may change; any other is read at start only. */
  private static final List<String> RELOADED = List.of("routes", "legacy-headers", "rate-limit-headers");

  /**
   * Replaces the routes and their rules with those of {@code next}, without dropping a connection: requests admitted
   * from now on are decided by the new rules; a request already waiting (delay mode) keeps the place it has under
   * the old ones. A rule keeps its buckets when its name, id and limit are unchanged (on Redis the buckets are the
   * store's keys, and such a rule keeps them in any case).
   *
   * <p>Only the routes, {@code legacy-headers} and {@code rate-limit-headers} are reloaded; the listening and admin
   * addresses, the upstream and its settings, the store and its settings, the timeouts and the event loops are
   * read at start.
   *
   * @throws ConfigException if {@code next} changes a setting read at start only (naming it), or its rules cannot
   *     be enforced; the gateway then goes on with the configuration it had
   * @throws IllegalStateException if the gateway is closed
   */
  public synchronized Reload reload(GatewayConfig next) {
    if (closing) {
      throw new IllegalStateException("the gateway is closed");
    }
    Active old = active;
    String unchanged = startOnlyChange(old.config(), next);
    if (unchanged != null) {
      throw new ConfigException(unchanged);
    }
    Active now = activate(next, old.stores());
    Map<String, Rule> before = new LinkedHashMap<>();
    old.stores().forEach(rs -> before.putIfAbsent(rs.rule().name(), rs.rule()));
    List<String> kept = new ArrayList<>();
    List<String> restarted = new ArrayList<>();
    List<String> added = new ArrayList<>();
    for (RuleStore rs : now.stores()) {
      String name = rs.rule().name();
      Rule was = before.remove(name);
      if (was == null) {
        added.add(name);
      } else if (old.stores().stream().anyMatch(o -> o.store() == rs.store())) {
        kept.add(name);
      } else {
        restarted.add(name);
      }
    }
    Reload result = new Reload(kept, restarted, added, new ArrayList<>(before.keySet()));
    active = now;
    retired.removeIf(t -> t.waiting() == 0);
    if (old.throttle().waiting() > 0) {
      retired.add(old.throttle());
    }
    log.info("gateway reloaded: {} routes={}", result,
        next.routes().stream().map(r -> r.name() + " " + r.path() + " " + r.rules()).toList());
    return result;
  }

  /** Which setting read at start only differs between {@code a} and {@code b}, as a message; null if none. */
  private static String startOnlyChange(GatewayConfig a, GatewayConfig b) {
    Object[][] settings = {
        {"listen", a.host() + ":" + a.port(), b.host() + ":" + b.port()},
        {"admin", a.adminHost() + ":" + a.adminPort(), b.adminHost() + ":" + b.adminPort()},
        {"upstream", a.upstream(), b.upstream()},
        {"store", a.redisUri(), b.redisUri()},
        {"redis timeout", a.redisTimeout(), b.redisTimeout()},
        {"redis on-failure", a.redisFailure(), b.redisFailure()},
        {"redis prefix", a.redisPrefix(), b.redisPrefix()},
        {"redis-lease", a.redisLease(), b.redisLease()},
        {"access-log", a.accessLog(), b.accessLog()},
        {"max-keys", a.maxKeys(), b.maxKeys()},
        {"connect-timeout", a.connectTimeout(), b.connectTimeout()},
        {"upstream-timeout", a.upstreamTimeout(), b.upstreamTimeout()},
        {"max-body", a.maxBodyBytes(), b.maxBodyBytes()},
        {"grace", a.grace(), b.grace()},
        {"header-timeout", a.headerTimeout(), b.headerTimeout()},
        {"idle-timeout", a.idleTimeout(), b.idleTimeout()},
        {"event-loops", a.eventLoops(), b.eventLoops()},
        {"upstream-connections", a.upstreamConnections(), b.upstreamConnections()}};
    for (Object[] s : settings) {
      if (!String.valueOf(s[1]).equals(String.valueOf(s[2]))) { // the text: a failure policy has no equals
        return "cannot reload: " + s[0] + " changed from " + redact(s[1]) + " to " + redact(s[2]) + ", and it is "
            + "read at start only (a reload changes " + String.join(", ", RELOADED) + "); restart the gateway to "
            + "change it. The gateway goes on with the configuration it had.";
      }
    }
    return null;
  }

  /** A Redis URI may hold a password: shown without its user information. */
  private static Object redact(Object value) {
    if (value instanceof String text && text.contains("@") && text.contains("://")) {
      return text.substring(0, text.indexOf("://") + 3) + "***@" + text.substring(text.lastIndexOf('@') + 1);
    }
    return value;
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
    log.info("gateway stopping: no new connections; waiting={} in_flight={} grace={}", waiting(),
        metrics.inFlight().get(), dev.throttle.core.Durations.format(grace));
    List<Future<Void>> stops = new ArrayList<>();
    synchronized (servers) {
      for (HttpServer s : servers) {
        stops.add(s.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS));
      }
    }
    active.throttle().close(); // waiting requests answered 503 while their connections are open
    retired.forEach(HttpThrottle::close);
    Promise<Void> all = Promise.promise();
    Future.join(stops).onComplete(ar -> all.complete());
    awaitQuietly(all.future(), grace.toMillis() + 5_000, "connections still open after the grace period were closed");
    if (admin != null) {
      admin.close();
    }
    awaitQuietly(vertx.close(), 10_000, "Vert.x did not close cleanly");
    if (accessLog != null) {
      accessLog.close(); // every answer has been written by now
    }
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
