package dev.throttle.gateway;

import dev.throttle.http.RateLimitHeaders;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.TrustedProxies;
import dev.throttle.redis.FailurePolicy;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a {@link Gateway} runs with: where it listens, the upstream, the routes and their rules, the store,
 * timeouts and limits. Built in code ({@link #builder}), from flags (the CLI uses the builder), or from a YAML file
 * ({@link #load}); the settings and their defaults are those of {@code examples/throttle.yaml}.
 *
 * <p>A <em>route</em> covers a path prefix (whole segments) and optionally some methods; the first route that covers
 * a request applies all its rules to it (see {@code HttpThrottle.Builder.ruleGroup}), and a request no route covers
 * is passed on untouched. The rules are throttle-http's {@link Rule}s: one grammar for limits, keys and modes.
 *
 * <p>Immutable; every setting is checked when built, and an error ({@link ConfigException}) names the setting and
 * quotes the value.
 */
public final class GatewayConfig {

  /** One route: the rules applied together to the requests it covers (their path prefix and methods). */
  public record Route(String name, List<Rule> rules) {
    /**
     * @throws ConfigException if there is no rule, or the rules do not all cover one path prefix and methods
     */
    public Route {
      Objects.requireNonNull(name, "name");
      rules = List.copyOf(rules);
      if (rules.isEmpty()) {
        throw new ConfigException("route '" + name + "' has no rule (give it at least one, such as limit: 100/s)");
      }
      Rule first = rules.get(0);
      for (Rule r : rules) {
        if (!r.pathPrefix().equals(first.pathPrefix()) || !r.methods().equals(first.methods())) {
          throw new ConfigException("route '" + name + "': its rules must all cover the route's path and methods");
        }
      }
    }

    /** The path prefix the route covers. */
    public String path() {
      return rules.get(0).pathPrefix();
    }
  }

  /** The default address of the proxy: every interface. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** The default port of the proxy. */
  public static final int DEFAULT_PORT = 8080;
  /** The default address of {@code /health} and {@code /metrics}: the loopback address. */
  public static final String DEFAULT_ADMIN_HOST = "127.0.0.1";
  /**
   * The default port of {@code /health} and {@code /metrics}, on the loopback address: 8901, outside the ports of
   * well-known servers beside which a gateway runs (Prometheus 9090-9094 and its exporters' 9100-9999, Envoy's admin
   * 9901, the web and proxy ports 8080-8090, 8443, 8888).
   */
  public static final int DEFAULT_ADMIN_PORT = 8901;
  /** The default header timeout: nginx's {@code client_header_timeout}. */
  public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(60);
  /** The default idle (keep-alive) timeout: nginx's {@code keepalive_timeout}. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(75);

  private final String host;
  private final int port;
  private final String adminHost;
  private final int adminPort;
  private final URI upstream;
  private final List<Route> routes;
  private final String redisUri;
  private final Duration redisTimeout;
  private final FailurePolicy redisFailure;
  private final String redisPrefix;
  private final long redisLease;
  private final String accessLog;
  private final int maxKeys;
  private final boolean legacyHeaders;
  private final RateLimitHeaders rateLimitHeaders;
  private final Duration connectTimeout;
  private final Duration upstreamTimeout;
  private final long maxBodyBytes;
  private final Duration grace;
  private final Duration headerTimeout;
  private final Duration idleTimeout;
  private final int eventLoops;
  private final int upstreamConnections;

  private GatewayConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.adminHost = b.adminHost;
    this.adminPort = b.adminPort;
    this.upstream = b.upstream;
    this.routes = List.copyOf(b.routes);
    this.redisUri = b.redisUri;
    this.redisTimeout = b.redisTimeout;
    this.redisFailure = b.redisFailure;
    this.redisPrefix = b.redisPrefix;
    this.redisLease = b.redisLease;
    this.accessLog = b.accessLog;
    this.maxKeys = b.maxKeys;
    this.legacyHeaders = b.legacyHeaders;
    this.rateLimitHeaders = b.rateLimitHeaders;
    this.connectTimeout = b.connectTimeout;
    this.upstreamTimeout = b.upstreamTimeout;
    this.maxBodyBytes = b.maxBodyBytes;
    this.grace = b.grace;
    this.headerTimeout = b.headerTimeout;
    this.idleTimeout = b.idleTimeout;
    this.eventLoops = b.eventLoops;
    this.upstreamConnections = b.upstreamConnections;
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads a YAML configuration file.
   *
   * @throws ConfigException naming the file and line, quoting the offending value (also when the file cannot be
   *     read or is not YAML)
   */
  public static GatewayConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file.toString(), 0, "cannot read the configuration: " + e);
    }
    return parse(text, file.toString());
  }

  /**
   * Reads a YAML configuration from text; {@code fileName} is quoted in errors.
   *
   * @throws ConfigException naming the file and line and quoting the offending value
   */
  public static GatewayConfig parse(String yaml, String fileName) {
    return new YamlConfig(fileName).read(yaml);
  }

  /** The address the proxy listens on ({@code 0.0.0.0} by default: every interface). */
  public String host() {
    return host;
  }

  /** The proxy's port; 0 picks a free one ({@link Gateway#port()} tells which). */
  public int port() {
    return port;
  }

  /** The address of {@code /health} and {@code /metrics} ({@code 127.0.0.1} by default: this machine only). */
  public String adminHost() {
    return adminHost;
  }

  /** The admin port; 0 picks a free one; -1 when there is no admin server. */
  public int adminPort() {
    return adminPort;
  }

  /** The upstream: {@code http://host:port}, with an optional path prefixed to every request's. */
  public URI upstream() {
    return upstream;
  }

  /** The routes, in the order they are tried. */
  public List<Route> routes() {
    return routes;
  }

  /** The Redis URI of the shared store, or null for the in-memory store. */
  public String redisUri() {
    return redisUri;
  }

  /** How long a decision waits for Redis before the failure policy answers. */
  public Duration redisTimeout() {
    return redisTimeout;
  }

  /** What answers when Redis cannot. */
  public FailurePolicy redisFailure() {
    return redisFailure;
  }

  /** The start of every Redis key; each rule adds its name. */
  public String redisPrefix() {
    return redisPrefix;
  }

  /** The Redis store's lease size in tokens (at most each rule's burst), or 0 for none (exact decisions). */
  public long redisLease() {
    return redisLease;
  }

  /** Where the access log goes (a file, or {@code -} for standard output), or null for none. */
  public String accessLog() {
    return accessLog;
  }

  /** Keys held per rule by the in-memory store. */
  public int maxKeys() {
    return maxKeys;
  }

  /** Whether responses carry {@code X-RateLimit-*} besides the IETF fields. */
  public boolean legacyHeaders() {
    return legacyHeaders;
  }

  /** Which rate-limit fields responses carry (throttle-http's {@link RateLimitHeaders}). */
  public RateLimitHeaders rateLimitHeaders() {
    return rateLimitHeaders;
  }

  /** How long connecting to the upstream may take (then 502). */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** How long the upstream may stay silent, before and while it answers (then 504, or the exchange is reset). */
  public Duration upstreamTimeout() {
    return upstreamTimeout;
  }

  /** The largest request body passed on, in bytes (larger: 413). */
  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /** How long a shutdown waits for requests in flight before closing their connections. */
  public Duration grace() {
    return grace;
  }

  /** How long a new connection may take to send a complete request head (then it is closed). */
  public Duration headerTimeout() {
    return headerTimeout;
  }

  /** How long a kept-alive connection may take, after a response, to send the next complete head (then closed). */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** Event-loop threads serving requests. */
  public int eventLoops() {
    return eventLoops;
  }

  /** Connections to the upstream kept per event loop. */
  public int upstreamConnections() {
    return upstreamConnections;
  }

  @Override
  public String toString() {
    return "GatewayConfig[listen " + host + ":" + port + ", upstream " + upstream + ", store "
        + (redisUri == null ? "memory" : redisUri) + ", routes " + routes.stream().map(Route::name).toList() + "]";
  }

  /** Configures a {@link GatewayConfig}; every setter checks its value at once. */
  public static final class Builder {
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private String adminHost = DEFAULT_ADMIN_HOST;
    private int adminPort = DEFAULT_ADMIN_PORT;
    private URI upstream;
    private final List<Route> routes = new ArrayList<>();
    private String redisUri;
    private Duration redisTimeout = Duration.ofMillis(50);
    private FailurePolicy redisFailure = FailurePolicy.failClosed();
    private String redisPrefix = "throttle:gw:";
    private long redisLease;
    private String accessLog;
    private int maxKeys = StoreFactory.DEFAULT_MAX_KEYS;
    private boolean legacyHeaders = true;
    private RateLimitHeaders rateLimitHeaders = RateLimitHeaders.DRAFT_10;
    private Duration connectTimeout = Duration.ofSeconds(2);
    private Duration upstreamTimeout = Duration.ofSeconds(30);
    private long maxBodyBytes = 10L << 20;
    private Duration grace = Duration.ofSeconds(10);
    private Duration headerTimeout = DEFAULT_HEADER_TIMEOUT;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private int eventLoops = Runtime.getRuntime().availableProcessors();
    private int upstreamConnections = 64;

    private Builder() {}

    /** Where the proxy listens: an address (default {@code 0.0.0.0}) and a port (default 8080; 0: any free one). */
    public Builder listen(String host, int port) {
      this.host = requireHost("listen", host);
      this.port = requirePort("listen", port);
      return this;
    }

    /** Where {@code /health} and {@code /metrics} are served (default {@code 127.0.0.1:8901}). */
    public Builder admin(String host, int port) {
      this.adminHost = requireHost("admin", host);
      this.adminPort = requirePort("admin", port);
      return this;
    }

    /** No admin server. */
    public Builder noAdmin() {
      this.adminPort = -1;
      return this;
    }

    /**
     * The upstream, {@code http://host:port} with an optional path prefixed to every request's path.
     *
     * @throws ConfigException if it is not such a URI
     */
    public Builder upstream(String uri) {
      this.upstream = parseUpstream(uri);
      return this;
    }

    /**
     * Adds a route; routes are tried in the order added, and their names and rule names must be unique.
     *
     * @throws ConfigException if a route added before covers every request this one would (it could never match)
     */
    public Builder route(Route route) {
      Objects.requireNonNull(route, "route");
      for (Route r : routes) {
        if (r.name().equals(route.name())) {
          throw new ConfigException("two routes are named '" + route.name() + "'");
        }
        if (covers(r, route)) {
          throw new ConfigException("route '" + route.name() + "' (path " + route.path() + methods(route)
              + ") can never match: route '" + r.name() + "' before it (path " + r.path() + methods(r)
              + ") covers every request it would; put the narrower route first, or remove one");
        }
      }
      routes.add(route);
      return this;
    }

    /** Whether every request {@code later} covers is covered by {@code earlier} (tried first). */
    private static boolean covers(Route earlier, Route later) {
      Rule e = earlier.rules().get(0);
      Rule l = later.rules().get(0);
      if (l.methods().isEmpty()) {
        return e.methods().isEmpty() && e.matches("GET", l.pathPrefix());
      }
      return l.methods().stream().allMatch(m -> e.matches(m, l.pathPrefix()));
    }

    private static String methods(Route r) {
      Set<String> m = r.rules().get(0).methods();
      return m.isEmpty() ? ", every method" : ", " + String.join(",", m);
    }

    /** The in-memory store (the default), holding at most {@code maxKeysPerRule} keys per rule. */
    public Builder memoryStore(int maxKeysPerRule) {
      maxKeys(maxKeysPerRule);
      this.redisUri = null;
      return this;
    }

    /** The most keys per rule the in-memory store holds; the store stays as chosen. */
    public Builder maxKeys(int maxKeysPerRule) {
      if (maxKeysPerRule < 1) {
        throw new ConfigException("max-keys must be at least 1, got " + maxKeysPerRule);
      }
      this.maxKeys = maxKeysPerRule;
      return this;
    }

    /**
     * The Redis store at {@code uri} ({@code redis://host:port}, {@code rediss://}, {@code redis-sentinel://},
     * {@code redis-cluster://}), shared by every gateway with the same Redis, key prefix and rules.
     */
    public Builder redisStore(String uri) {
      Objects.requireNonNull(uri, "uri");
      String lower = uri.toLowerCase(Locale.ROOT);
      if (!lower.startsWith("redis://") && !lower.startsWith("rediss://") && !lower.startsWith("redis-sentinel://")
          && !lower.startsWith("redis-cluster://") && !lower.startsWith("rediss-cluster://")) {
        throw new ConfigException("store must be 'memory' or a Redis URI (redis://host:port, rediss://...,"
            + " redis-sentinel://host:port#master, redis-cluster://host:port,host:port), got '" + uri + "'");
      }
      checkRedisPorts(uri);
      this.redisUri = uri;
      return this;
    }

    /**
     * How long a decision waits for Redis before the failure policy answers (default 50 ms: a gateway shares its
     * machine with the upstream and its JIT, where a few milliseconds are sometimes missed; the circuit then stops
     * waiting for a Redis that is down, so this is paid a few times, not on every request).
     */
    public Builder redisTimeout(Duration timeout) {
      this.redisTimeout = requirePositive("redis-timeout", timeout);
      return this;
    }

    /**
     * What answers when Redis cannot (default fail-closed), in its text form, as in the YAML and the flag: {@code fail-open}, {@code fail-closed},
     * {@code local-share:<n>} or {@code local:<limit>}.
     *
     * @throws ConfigException quoting the text and listing the forms
     */
    public Builder redisFailure(String text) {
      return redisFailure(parseFailurePolicy(text));
    }

    /** What answers when Redis cannot (default fail-closed). */
    public Builder redisFailure(FailurePolicy policy) {
      this.redisFailure = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** The start of every Redis key (default {@code throttle:gw:}); each rule adds its name. */
    public Builder redisPrefix(String prefix) {
      if (prefix == null || prefix.contains("{") || prefix.contains("}")) {
        throw new ConfigException("redis-prefix cannot contain braces (the caller key is the Cluster hash tag), got '"
            + prefix + "'");
      }
      this.redisPrefix = prefix;
      return this;
    }

    /**
     * Off (0) by default. With {@code tokens > 0}, a hot key's decision on the Redis store takes a lease of that many
     * tokens more (at most the rule's burst) and this gateway spends them without a round trip, each lease for at
     * most a second: fewer round trips, at the price of exactness, since in any window a key may be admitted up to
     * {@code tokens} times the number of gateways beyond its limit (see {@code docs/redis.md}, Leasing).
     */
    public Builder redisLease(long tokens) {
      if (tokens < 0) {
        throw new ConfigException("redis-lease must be 0 (no lease) or a number of tokens, got " + tokens);
      }
      this.redisLease = tokens;
      return this;
    }

    /**
     * A line per answered request (arrival to the microsecond, client, request line, status, bytes, duration) appended
     * to {@code target}, or written to standard output for {@code -}; none by default. The format is in
     * {@code docs/gateway.md}.
     */
    public Builder accessLog(String target) {
      if (target == null || target.isBlank()) {
        throw new ConfigException("access-log must be a file or - (standard output), got '" + target + "'");
      }
      this.accessLog = target;
      return this;
    }

    /** Whether to send {@code X-RateLimit-*} too (default true). */
    public Builder legacyHeaders(boolean legacyHeaders) {
      this.legacyHeaders = legacyHeaders;
      return this;
    }

    /** Which rate-limit fields to send: draft-10 (default), draft-7, draft-6, legacy or none. */
    public Builder rateLimitHeaders(RateLimitHeaders headers) {
      this.rateLimitHeaders = Objects.requireNonNull(headers, "headers");
      return this;
    }

    /** How long connecting to the upstream may take (default 2 s); then 502. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = requirePositive("connect-timeout", timeout);
      return this;
    }

    /** How long the upstream may stay silent (default 30 s); then 504 (or a reset once the answer has begun). */
    public Builder upstreamTimeout(Duration timeout) {
      this.upstreamTimeout = requirePositive("upstream-timeout", timeout);
      return this;
    }

    /**
     * The largest request body passed on, as text, as in the YAML and the flag: bytes, or a whole number with {@code KB},
     * {@code MB} or {@code GB} (powers of 1024).
     *
     * @throws ConfigException quoting the text
     */
    public Builder maxBody(String text) {
      return maxBodyBytes(parseSize(text));
    }

    /** The largest request body passed on, in bytes (default 10 MiB); 0 refuses any body. */
    public Builder maxBodyBytes(long bytes) {
      if (bytes < 0) {
        throw new ConfigException("max-body cannot be negative, got " + bytes);
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /** How long a shutdown waits for requests in flight (default 10 s). */
    public Builder grace(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative()) {
        throw new ConfigException("grace cannot be negative, got " + grace);
      }
      this.grace = grace;
      return this;
    }

    /**
     * How long a new connection may take to send a complete request head (default 60 s, nginx's
     * {@code client_header_timeout}); then it is closed. A client sending its head byte by byte is closed too.
     */
    public Builder headerTimeout(Duration timeout) {
      this.headerTimeout = requirePositive("header-timeout", timeout);
      return this;
    }

    /**
     * How long a kept-alive connection may stay without a next complete request head after a response (default
     * 75 s, nginx's {@code keepalive_timeout}); then it is closed.
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = requirePositive("idle-timeout", timeout);
      return this;
    }

    /** Event-loop threads (default: one per processor). */
    public Builder eventLoops(int n) {
      if (n < 1 || n > 1024) {
        throw new ConfigException("event-loops must be from 1 to 1024, got " + n);
      }
      this.eventLoops = n;
      return this;
    }

    /** Connections to the upstream kept per event loop (default 64). */
    public Builder upstreamConnections(int n) {
      if (n < 1 || n > 100_000) {
        throw new ConfigException("upstream-connections must be from 1 to 100000, got " + n);
      }
      this.upstreamConnections = n;
      return this;
    }

    /**
     * The configuration.
     *
     * @throws ConfigException without an upstream or a route, or with a rule name used twice
     */
    public GatewayConfig build() {
      if (upstream == null) {
        throw new ConfigException("no upstream (for example upstream: http://127.0.0.1:9000)");
      }
      if (routes.isEmpty()) {
        throw new ConfigException("no route (give at least one route with a rule, or a --limit)");
      }
      Set<String> names = new HashSet<>();
      for (Route r : routes) {
        for (Rule rule : r.rules()) {
          if (!names.add(rule.name())) {
            throw new ConfigException("two rules are named '" + rule.name() + "' (rule names are policy names in"
                + " the responses, and keys in Redis: they must be unique)");
          }
        }
      }
      if (adminPort >= 0 && adminPort == port && port != 0 && adminHost.equals(host)) {
        throw new ConfigException("the admin port " + adminPort + " is the proxy's port");
      }
      return new GatewayConfig(this);
    }

    private static String requireHost(String what, String host) {
      if (host == null || host.isBlank() || host.contains("/") || host.contains(" ")) {
        throw new ConfigException(what + " needs an address such as 0.0.0.0 or 127.0.0.1, got '" + host + "'");
      }
      return host;
    }

    private static int requirePort(String what, int port) {
      if (port < 0 || port > 65535) {
        throw new ConfigException(what + " port must be from 0 to 65535, got " + port);
      }
      return port;
    }

    private static Duration requirePositive(String what, Duration d) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new ConfigException(what + " must be positive, got " + dev.throttle.core.Durations.format(d));
      }
      return d;
    }
  }

  static URI parseUpstream(String text) {
    String hint = "upstream must be http://host:port (optionally with a path), got '" + text + "'";
    if (text == null) {
      throw new ConfigException(hint);
    }
    URI uri;
    try {
      uri = new URI(text.strip());
    } catch (URISyntaxException e) {
      throw new ConfigException(hint + ": " + e.getReason());
    }
    if (!"http".equalsIgnoreCase(uri.getScheme())) {
      throw new ConfigException(hint + (uri.getScheme() == null ? "" : ": only http:// upstreams are supported"));
    }
    if (uri.getHost() == null || uri.getQuery() != null || uri.getFragment() != null || uri.getUserInfo() != null) {
      throw new ConfigException(hint);
    }
    if (uri.getPort() == 0 || uri.getPort() > 65535) {
      throw new ConfigException(hint + ": the port must be from 1 to 65535");
    }
    return uri;
  }

  /**
   * Reads the field trusted proxies name the client in: {@code X-Forwarded-For} or {@code Forwarded} (any case).
   *
   * @throws ConfigException quoting the text
   */
  public static TrustedProxies.Header parseForwardedHeader(String text) {
    if (text.strip().equalsIgnoreCase("Forwarded")) {
      return TrustedProxies.Header.FORWARDED;
    }
    if (text.strip().equalsIgnoreCase("X-Forwarded-For")) {
      return TrustedProxies.Header.X_FORWARDED_FOR;
    }
    throw new ConfigException("forwarded-header must be X-Forwarded-For or Forwarded, got '" + text + "'");
  }

  /**
   * Checks the ports of a Redis URI's hosts ({@code host:port}, several separated by commas for Sentinel and
   * Cluster, IPv6 in brackets): each from 1 to 65535.
   */
  private static void checkRedisPorts(String uri) {
    String rest = uri.substring(uri.indexOf("://") + 3);
    int end = rest.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = rest.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String authority = rest.substring(0, end);
    authority = authority.substring(authority.lastIndexOf('@') + 1);
    for (String hostPort : authority.split(",")) {
      int colon = hostPort.lastIndexOf(':');
      if (colon < 0 || colon < hostPort.lastIndexOf(']')) {
        continue; // no port: the default one
      }
      String port = hostPort.substring(colon + 1);
      int p;
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (p < 1 || p > 65535) {
        throw new ConfigException("store '" + uri + "': the port must be from 1 to 65535, got '" + port + "'");
      }
    }
  }

  /**
   * Reads the failure policy's text: {@code fail-open}, {@code fail-closed}, {@code local-share:<n>} (each of n
   * gateways keeps 1/n of every limit) or {@code local:<limit>}; the form of the YAML setting and of the flag.
   *
   * @throws ConfigException quoting the text and listing the forms
   */
  static FailurePolicy parseFailurePolicy(String text) {
    try {
      return FailurePolicy.parse(text); // one reading of the policy for the gateway and the Spring starter
    } catch (IllegalArgumentException e) {
      throw new ConfigException("on-redis-failure " + e.getMessage().replace("instances", "gateways"));
    }
  }

  /**
   * Reads a size: bytes, or a whole number with {@code KB}, {@code MB} or {@code GB} (powers of 1024).
   *
   * @throws ConfigException quoting the text
   */
  static long parseSize(String text) {
    String t = text.strip().toUpperCase(Locale.ROOT);
    long unit = 1;
    for (String[] u : new String[][] {{"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"}, {"B", "1"}}) {
      if (t.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length()).strip();
        break;
      }
    }
    try {
      long n = Long.parseLong(t);
      if (n < 0 || n > Long.MAX_VALUE / unit) {
        throw new NumberFormatException();
      }
      return n * unit;
    } catch (NumberFormatException e) {
      throw new ConfigException("max-body must be a size such as 1048576, 512KB, 10MB or 1GB, got '" + text + "'");
    }
  }
}
