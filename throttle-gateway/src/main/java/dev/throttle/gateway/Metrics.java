package dev.throttle.gateway;

import dev.throttle.http.Rule;
import dev.throttle.http.Verdict;
import dev.throttle.redis.RedisRateLimiter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The gateway's counters, and their Prometheus text exposition (format 0.0.4), written by hand: a dozen families
 * and one histogram are about a hundred lines, where a client library would bring its registry, its own HTTP server
 * and several jars into a process that already serves HTTP. Counting is one {@link LongAdder} increment per event,
 * on the request's thread; a scrape reads them all.
 */
final class Metrics {

  /** Decision latency buckets, in seconds: an in-memory decision is microseconds, a Redis one about a millisecond. */
  static final double[] BUCKETS = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25, 1};

  private static final Verdict.Outcome[] OUTCOMES = Verdict.Outcome.values();

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

  private record RuleCounters(String route, LongAdder[] byOutcome) {}

  private final Map<String, RuleCounters> rules = new LinkedHashMap<>();
  private final LongAdder unrouted = new LongAdder();
  private final LongAdder[] decisionBuckets = new LongAdder[BUCKETS.length + 1];
  private final LongAdder decisionCount = new LongAdder();
  private final LongAdder decisionNanos = new LongAdder();
  private final LongAdder[] upstreamErrors = new LongAdder[UpstreamError.values().length];
  private final LongAdder[] requestErrors = new LongAdder[RequestError.values().length];
  private final LongAdder[] connectionTimeouts = new LongAdder[ConnectionTimeout.values().length];
  private final AtomicInteger inFlight = new AtomicInteger();

  Metrics(List<GatewayConfig.Route> routes) {
    for (GatewayConfig.Route route : routes) {
      for (Rule rule : route.rules()) {
        LongAdder[] counters = new LongAdder[OUTCOMES.length];
        for (int i = 0; i < counters.length; i++) {
          counters[i] = new LongAdder();
        }
        rules.put(rule.name(), new RuleCounters(route.name(), counters));
      }
    }
    for (int i = 0; i < decisionBuckets.length; i++) {
      decisionBuckets[i] = new LongAdder();
    }
    for (int i = 0; i < upstreamErrors.length; i++) {
      upstreamErrors[i] = new LongAdder();
    }
    for (int i = 0; i < requestErrors.length; i++) {
      requestErrors[i] = new LongAdder();
    }
    for (int i = 0; i < connectionTimeouts.length; i++) {
      connectionTimeouts[i] = new LongAdder();
    }
  }

  /** Every rule's verdict (the throttle's listener); a request no route covers has no rule. */
  void onVerdict(Verdict v) {
    RuleCounters c = v.ruleName() == null ? null : rules.get(v.ruleName());
    if (c == null) {
      unrouted.increment();
    } else {
      c.byOutcome[v.outcome().ordinal()].increment();
    }
  }

  /** The time a request's admission took, waiting for a turn excluded. */
  void decided(long nanos) {
    long n = Math.max(0, nanos);
    double seconds = n / 1e9;
    int i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) {
      i++;
    }
    decisionBuckets[i].increment();
    decisionCount.increment();
    decisionNanos.add(n);
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
    RuleCounters c = rules.get(rule);
    return c == null ? 0 : c.byOutcome[outcome.ordinal()].sum();
  }

  /** The text exposition of every family. */
  String scrape(IntSupplier waiting, Map<String, RedisRateLimiter<String>> redis, boolean redisConnected) {
    StringBuilder sb = new StringBuilder(4096);
    family(sb, "throttle_gateway_requests_total", "counter",
        "Verdicts per route and rule: allowed, delayed, refused (429), and the other outcomes");
    for (Map.Entry<String, RuleCounters> e : rules.entrySet()) {
      for (Verdict.Outcome o : OUTCOMES) {
        long n = e.getValue().byOutcome[o.ordinal()].sum();
        if (n > 0 || o == Verdict.Outcome.ALLOWED || o == Verdict.Outcome.DELAYED || o == Verdict.Outcome.REFUSED) {
          sb.append("throttle_gateway_requests_total{route=\"").append(escape(e.getValue().route))
              .append("\",rule=\"").append(escape(e.getKey())).append("\",outcome=\"")
              .append(o.name().toLowerCase(Locale.ROOT)).append("\"} ").append(n).append('\n');
        }
      }
    }
    family(sb, "throttle_gateway_unrouted_requests_total", "counter", "Requests no route covers, passed on untouched");
    sb.append("throttle_gateway_unrouted_requests_total ").append(unrouted.sum()).append('\n');

    family(sb, "throttle_gateway_decision_seconds", "histogram",
        "Time to decide a request (store round trip included, waiting for a turn excluded)");
    long cumulative = 0;
    for (int i = 0; i < BUCKETS.length; i++) {
      cumulative += decisionBuckets[i].sum();
      sb.append("throttle_gateway_decision_seconds_bucket{le=\"")
          .append(java.math.BigDecimal.valueOf(BUCKETS[i]).toPlainString()).append("\"} ").append(cumulative)
          .append('\n');
    }
    cumulative += decisionBuckets[BUCKETS.length].sum();
    sb.append("throttle_gateway_decision_seconds_bucket{le=\"+Inf\"} ").append(cumulative).append('\n');
    sb.append("throttle_gateway_decision_seconds_sum ").append(decisionNanos.sum() / 1e9).append('\n');
    sb.append("throttle_gateway_decision_seconds_count ").append(cumulative).append('\n');

    family(sb, "throttle_gateway_waiting", "gauge", "Requests waiting for their turn (delay mode) or for the store");
    sb.append("throttle_gateway_waiting ").append(waiting.getAsInt()).append('\n');
    family(sb, "throttle_gateway_in_flight", "gauge", "Requests passed on to the upstream and not yet answered");
    sb.append("throttle_gateway_in_flight ").append(inFlight.get()).append('\n');

    family(sb, "throttle_gateway_upstream_errors_total", "counter",
        "Upstream failures: connect (502), timeout (504, or reset once answering), reset (the exchange broke)");
    for (UpstreamError k : UpstreamError.values()) {
      sb.append("throttle_gateway_upstream_errors_total{kind=\"").append(k.name().toLowerCase(Locale.ROOT))
          .append("\"} ").append(upstreamErrors[k.ordinal()].sum()).append('\n');
    }
    family(sb, "throttle_gateway_request_errors_total", "counter",
        "Requests the gateway answered itself, then closed the connection: too_large (413), bad_request (400),"
            + " not_implemented (501), uri_too_long (414), header_too_large (431)");
    for (RequestError k : RequestError.values()) {
      sb.append("throttle_gateway_request_errors_total{kind=\"").append(k.label()).append("\"} ")
          .append(requestErrors[k.ordinal()].sum()).append('\n');
    }

    family(sb, "throttle_gateway_connection_timeouts_total", "counter",
        "Connections closed without a complete request head: header (within header-timeout of the connection's"
            + " start), idle (within idle-timeout of the previous response's end)");
    for (ConnectionTimeout k : ConnectionTimeout.values()) {
      sb.append("throttle_gateway_connection_timeouts_total{kind=\"").append(k.name().toLowerCase(Locale.ROOT))
          .append("\"} ").append(connectionTimeouts[k.ordinal()].sum()).append('\n');
    }

    if (!redis.isEmpty()) {
      family(sb, "throttle_gateway_redis_connected", "gauge", "1 when the connection to Redis is up");
      sb.append("throttle_gateway_redis_connected ").append(redisConnected ? 1 : 0).append('\n');
      family(sb, "throttle_gateway_redis_decisions_total", "counter",
          "Decisions per rule answered by Redis, and degraded ones answered by the failure policy (by cause)");
      for (Map.Entry<String, RedisRateLimiter<String>> e : redis.entrySet()) {
        RedisRateLimiter.Stats s = e.getValue().stats();
        String rule = escape(e.getKey());
        line(sb, rule, "redis", s.fromRedis());
        line(sb, rule, "timeout", s.timeouts());
        line(sb, rule, "error", s.errors());
        line(sb, rule, "circuit_open", s.circuitOpen());
        line(sb, rule, "short_circuit", s.shortCircuited());
      }
      family(sb, "throttle_gateway_redis_late_answers_total", "counter",
          "Decisions per rule that timed out (answered by the failure policy) and that Redis answered afterwards:"
              + " Redis up, the machine or network slower than redis-timeout; timeouts without them are an outage");
      for (Map.Entry<String, RedisRateLimiter<String>> e : redis.entrySet()) {
        sb.append("throttle_gateway_redis_late_answers_total{rule=\"").append(escape(e.getKey())).append("\"} ")
            .append(e.getValue().stats().lateAnswers()).append('\n');
      }
      family(sb, "throttle_gateway_redis_degraded_total", "counter",
          "Decisions per rule answered by the failure policy because Redis could not");
      for (Map.Entry<String, RedisRateLimiter<String>> e : redis.entrySet()) {
        sb.append("throttle_gateway_redis_degraded_total{rule=\"").append(escape(e.getKey())).append("\"} ")
            .append(e.getValue().stats().degraded()).append('\n');
      }
    }
    return sb.toString();
  }

  private static void line(StringBuilder sb, String rule, String result, long n) {
    sb.append("throttle_gateway_redis_decisions_total{rule=\"").append(rule).append("\",result=\"").append(result)
        .append("\"} ").append(n).append('\n');
  }

  private static void family(StringBuilder sb, String name, String type, String help) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  /** A label value: backslash, double quote and line feed escaped, as the format requires. */
  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
