package dev.throttle.gateway;

import dev.throttle.http.Rule;
import dev.throttle.http.Verdict;
import dev.throttle.micrometer.HttpMetrics;
import dev.throttle.micrometer.RedisMetrics;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The gateway's meters, in a Micrometer {@link PrometheusMeterRegistry} whose text exposition (format 0.0.4) is
 * {@code /metrics}. The verdicts and the Redis store are counted by throttle-micrometer's binders (prefix
 * {@code throttle.gateway}, so the Prometheus names are those the gateway always had; docs/gateway.md lists them);
 * the gateway's own events (decision time, upstream and request errors, connection timeouts, in flight) here.
 * Counting is a counter increment on the request's thread; a scrape reads them all.
 */
final class Metrics {

  static final String PREFIX = "throttle.gateway";

  /** Decision latency buckets: an in-memory decision is microseconds, a Redis one about a millisecond. */
  static final Duration[] BUCKETS = {Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000),
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofSeconds(1)};

  /** Upstream failures, by kind. */
  enum UpstreamError { CONNECT, TIMEOUT, RESET }

  /** Requests the gateway answered itself because of the request, by kind (the status in parentheses). */
  enum RequestError {
    /** The body is over max-body (413). */
    TOO_LARGE,
    /** The request cannot be read as HTTP/1.1 says: framing, Host, field or chunk syntax, path (400). */
    BAD_REQUEST,
    /** A transfer coding other than chunked (501). */
    NOT_IMPLEMENTED,
    /** The request line is too long (414). */
    URI_TOO_LONG,
    /** The fields are too large (431). */
    HEADER_TOO_LARGE;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Connections closed because no request head was complete in time. */
  enum ConnectionTimeout {
    /** Within header-timeout of the connection's start. */
    HEADER,
    /** Within idle-timeout of the previous response's end (keep-alive). */
    IDLE
  }

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpMetrics verdicts;
  private final Timer decision;
  private final Counter[] upstreamErrors = new Counter[UpstreamError.values().length];
  private final Counter[] requestErrors = new Counter[RequestError.values().length];
  private final Counter[] connectionTimeouts = new Counter[ConnectionTimeout.values().length];
  private final AtomicInteger inFlight = new AtomicInteger();

  /** The route of each rule, for the {@code route} tag; replaced by a reload. */
  private volatile Map<String, String> routeOfRule = Map.of();

  /** The gateway's meters; the rules are added by {@link #routes} (at start, then at each reload). */
  Metrics() {
    verdicts = HttpMetrics.of(registry, PREFIX, rule -> {
      String route = routeOfRule.get(rule);
      return route == null ? Tags.empty() : Tags.of("route", route);
    });
    decision = Timer.builder(PREFIX + ".decision")
        .description("Time to decide a request (store round trip included, waiting for a turn excluded)")
        .serviceLevelObjectives(BUCKETS).register(registry);
    for (UpstreamError k : UpstreamError.values()) {
      upstreamErrors[k.ordinal()] = Counter.builder(PREFIX + ".upstream.errors")
          .description("Upstream failures: connect (502), timeout (504, or reset once answering), reset (the "
              + "exchange broke)")
          .tag("kind", k.name().toLowerCase(Locale.ROOT)).register(registry);
    }
    for (RequestError k : RequestError.values()) {
      requestErrors[k.ordinal()] = Counter.builder(PREFIX + ".request.errors")
          .description("Requests the gateway answered itself, then closed the connection: too_large (413), "
              + "bad_request (400), not_implemented (501), uri_too_long (414), header_too_large (431)")
          .tag("kind", k.label()).register(registry);
    }
    for (ConnectionTimeout k : ConnectionTimeout.values()) {
      connectionTimeouts[k.ordinal()] = Counter.builder(PREFIX + ".connection.timeouts")
          .description("Connections closed without a complete request head: header (within header-timeout of the "
              + "connection's start), idle (within idle-timeout of the previous response's end)")
          .tag("kind", k.name().toLowerCase(Locale.ROOT)).register(registry);
    }
    Gauge.builder(PREFIX + ".in.flight", inFlight, AtomicInteger::get)
        .description("Requests passed on to the upstream and not yet answered").register(registry);
  }

  /**
   * The rules to count, each tagged with its route: those of the start, then of each reload (a rule's count goes on
   * across reloads; a removed rule's stays at what it reached).
   */
  void routes(List<GatewayConfig.Route> routes) {
    Map<String, String> map = new HashMap<>(routeOfRule);
    for (GatewayConfig.Route route : routes) {
      for (Rule rule : route.rules()) {
        map.put(rule.name(), route.name());
      }
    }
    routeOfRule = Map.copyOf(map);
    for (GatewayConfig.Route route : routes) {
      for (Rule rule : route.rules()) {
        verdicts.register(rule.name());
      }
    }
  }

  /** The gauge of requests waiting for their turn (delay mode) or for the store. */
  void bindWaiting(IntSupplier waiting) {
    Gauge.builder(PREFIX + ".waiting", waiting, IntSupplier::getAsInt)
        .description("Requests waiting for their turn (delay mode) or for the store")
        .strongReference(true) // a gauge holds its object weakly, and nothing else holds this method reference
        .register(registry);
  }

  /** The Redis connection's meters. */
  void bindConnection(RedisLimits redis) {
    RedisMetrics.bindConnection(registry, PREFIX, redis);
  }

  /**
   * A rule's Redis store's meters; those of a store the rule had before a reload are replaced (the counts read the
   * new store from then on, which Prometheus takes as a counter reset).
   */
  void bindRedis(String rule, RedisRateLimiter<String> limiter) {
    for (Meter m : registry.getMeters()) {
      if (m.getId().getName().startsWith(PREFIX + ".redis.") && rule.equals(m.getId().getTag("rule"))) {
        registry.remove(m);
      }
    }
    RedisMetrics.bind(registry, PREFIX, rule, limiter);
  }

  /** Every rule's verdict (the throttle's listener); a request no route covers has no rule. */
  void onVerdict(Verdict v) {
    verdicts.accept(v);
  }

  /** The time a request's admission took, waiting for a turn excluded. */
  void decided(long nanos) {
    decision.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
  }

  void upstreamError(UpstreamError kind) {
    upstreamErrors[kind.ordinal()].increment();
  }

  void requestError(RequestError kind) {
    requestErrors[kind.ordinal()].increment();
  }

  void connectionTimeout(ConnectionTimeout kind) {
    connectionTimeouts[kind.ordinal()].increment();
  }

  AtomicInteger inFlight() {
    return inFlight;
  }

  /** The count of {@code outcome} under {@code rule} so far (for tests and logs). */
  long count(String rule, Verdict.Outcome outcome) {
    return verdicts.count(rule, outcome);
  }

  /** The Prometheus text exposition (format 0.0.4) of every meter. */
  String scrape() {
    return registry.scrape();
  }
}
