package dev.throttle.spring;

import dev.throttle.http.Rule;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.Ordered;

/**
 * The {@code throttle.*} settings of {@code application.yml}: the vocabulary of the gateway's YAML (docs/gateway.md),
 * under {@code throttle:}. The smallest configuration is one route with one rule:
 *
 * <pre>
 * throttle:
 *   routes:
 *     - path: /api
 *       rules:
 *         - limit: 100/s burst 20
 * </pre>
 *
 * Limits, keys, durations and the failure policy are read by the same code as everywhere else in Throttle (the core's
 * limit grammar, {@code KeyResolver.parse}, {@code Durations.parse}, {@code FailurePolicy.parse}); an invalid value
 * fails the application's start-up with the property's name ({@code throttle.routes[0].rules[0].limit}) and the
 * value.
 */
@ConfigurationProperties(prefix = "throttle")
public class ThrottleProperties {

  /** Whether to throttle at all; false turns every part of the starter off. */
  private boolean enabled = true;

  /**
   * Where buckets live: "memory" (this process), or a Redis URI shared by every instance (redis://host:6379,
   * rediss://..., redis-sentinel://host:26379#master, redis-cluster://host:7000,host:7001).
   */
  private String store = "memory";

  /** Memory store: keys held per rule (the fullest buckets are dropped beyond it). */
  private int maxKeys = 100_000;

  /** Redis store: how long a decision waits for Redis before the failure policy answers (500ms, 2s). */
  private String redisTimeout = "50ms";

  /**
   * Redis store: what answers when Redis cannot: fail-open (allow), fail-closed (429), local-share:N (each of N
   * instances keeps 1/N of every limit in memory), local:LIMIT (that limit per key in memory).
   */
  private String onRedisFailure = "fail-closed";

  /** Redis store: the start of every key; the rule's name follows. */
  private String redisPrefix = "throttle:";

  /**
   * Redis store: 0 decides exactly (the default); N > 0 lets a hot key take N tokens at a time (at most the rule's
   * burst) and spend them in this instance without a round trip, so a key may pass its limit by N per instance in a
   * window.
   */
  private long redisLease;

  /** Addresses or blocks (10.0.0.0/8) of your own proxies: only their forwarding header is believed for ip keys. */
  private List<String> trustedProxies = new ArrayList<>();

  /** The forwarding header of the trusted proxies: X-Forwarded-For or Forwarded (RFC 7239). */
  private String forwardedHeader = "X-Forwarded-For";

  /** Whether to send X-RateLimit-Limit/-Remaining/-Reset beside the IETF RateLimit-Policy and RateLimit fields. */
  private boolean legacyHeaders = true;

  /** The IETF fields' form: draft-10 (lists), draft-7, draft-6, legacy (X-RateLimit-* only) or none. */
  private String rateLimitHeaders = "draft-10";

  /**
   * The filter's order among the application's filters (Servlet) or web filters (WebFlux). The default, last, runs
   * after Spring Security's (-100), so that a principal key sees the authenticated user, and, in a Servlet
   * application, before no filter that a delayed request's async dispatch would skip (only filters mapped for ASYNC
   * run on it).
   */
  private int filterOrder = Ordered.LOWEST_PRECEDENCE;

  /**
   * Routes, tried in order; the first whose path prefix and methods match a request applies all its rules.
   * Requests no route covers pass untouched.
   */
  private List<Route> routes = new ArrayList<>();

  /** One route: a path prefix, optionally methods, and the rules applying together to its requests. */
  public static class Route {

    /** The route's name (default route-N): rule names in response fields are ROUTE or ROUTE.RULE. */
    private String name;

    /** Path prefix matched by whole segments: /api covers /api and /api/x, not /apix. */
    private String path = "/";

    /** The methods covered (GET, POST...); all when empty. */
    private List<String> methods = new ArrayList<>();

    /** The rules; a request passes only if each lets it pass. */
    private List<RuleSpec> rules = new ArrayList<>();

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public String getPath() {
      return path;
    }

    public void setPath(String path) {
      this.path = path;
    }

    public List<String> getMethods() {
      return methods;
    }

    public void setMethods(List<String> methods) {
      this.methods = methods;
    }

    public List<RuleSpec> getRules() {
      return rules;
    }

    public void setRules(List<RuleSpec> rules) {
      this.rules = rules;
    }
  }

  /** One rule of a route. */
  public static class RuleSpec {

    /** The rule's name within its route (default: its number, or none for a route's only rule). */
    private String name;

    /** The limit per key, in Throttle's grammar: 100/s, 100/s burst 20, 6000/min, 4/s every 250ms, 10/s and 1000/h. */
    private String limit;

    /**
     * What the limit is per: ip, header:NAME, principal, path, all; combined with + (both) or | (the first present),
     * such as header:X-API-Key|ip.
     */
    private String key = "ip";

    /** Tokens per request (at most the limit's burst). */
    private long cost = 1;

    /** Beyond the limit: reject (429 at once) or delay (wait for a turn, up to max-wait, then 429). */
    private Rule.Mode mode = Rule.Mode.REJECT;

    /** Delay mode: the longest a request may wait for its turn (500ms, 2s, 1min). */
    private String maxWait;

    /** Requests without the key: shared (one bucket for them all), reject (400) or allow (not limited). */
    private Rule.MissingKey onMissingKey = Rule.MissingKey.SHARED;

    /** Decide and send the fields, but never refuse nor delay. */
    private boolean dryRun;

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public String getLimit() {
      return limit;
    }

    public void setLimit(String limit) {
      this.limit = limit;
    }

    public String getKey() {
      return key;
    }

    public void setKey(String key) {
      this.key = key;
    }

    public long getCost() {
      return cost;
    }

    public void setCost(long cost) {
      this.cost = cost;
    }

    public Rule.Mode getMode() {
      return mode;
    }

    public void setMode(Rule.Mode mode) {
      this.mode = mode;
    }

    public String getMaxWait() {
      return maxWait;
    }

    public void setMaxWait(String maxWait) {
      this.maxWait = maxWait;
    }

    public Rule.MissingKey getOnMissingKey() {
      return onMissingKey;
    }

    public void setOnMissingKey(Rule.MissingKey onMissingKey) {
      this.onMissingKey = onMissingKey;
    }

    public boolean isDryRun() {
      return dryRun;
    }

    public void setDryRun(boolean dryRun) {
      this.dryRun = dryRun;
    }
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getStore() {
    return store;
  }

  public void setStore(String store) {
    this.store = store;
  }

  public int getMaxKeys() {
    return maxKeys;
  }

  public void setMaxKeys(int maxKeys) {
    this.maxKeys = maxKeys;
  }

  public String getRedisTimeout() {
    return redisTimeout;
  }

  public void setRedisTimeout(String redisTimeout) {
    this.redisTimeout = redisTimeout;
  }

  public String getOnRedisFailure() {
    return onRedisFailure;
  }

  public void setOnRedisFailure(String onRedisFailure) {
    this.onRedisFailure = onRedisFailure;
  }

  public String getRedisPrefix() {
    return redisPrefix;
  }

  public long getRedisLease() {
    return redisLease;
  }

  public void setRedisLease(long redisLease) {
    this.redisLease = redisLease;
  }

  public void setRedisPrefix(String redisPrefix) {
    this.redisPrefix = redisPrefix;
  }

  public List<String> getTrustedProxies() {
    return trustedProxies;
  }

  public void setTrustedProxies(List<String> trustedProxies) {
    this.trustedProxies = trustedProxies;
  }

  public String getForwardedHeader() {
    return forwardedHeader;
  }

  public void setForwardedHeader(String forwardedHeader) {
    this.forwardedHeader = forwardedHeader;
  }

  public boolean isLegacyHeaders() {
    return legacyHeaders;
  }

  public void setLegacyHeaders(boolean legacyHeaders) {
    this.legacyHeaders = legacyHeaders;
  }

  public String getRateLimitHeaders() {
    return rateLimitHeaders;
  }

  public void setRateLimitHeaders(String rateLimitHeaders) {
    this.rateLimitHeaders = rateLimitHeaders;
  }

  public int getFilterOrder() {
    return filterOrder;
  }

  public void setFilterOrder(int filterOrder) {
    this.filterOrder = filterOrder;
  }

  public List<Route> getRoutes() {
    return routes;
  }

  public void setRoutes(List<Route> routes) {
    this.routes = routes;
  }
}
