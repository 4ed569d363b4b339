package dev.throttle.http;

import dev.throttle.core.Durations;
import dev.throttle.core.Limit;
import dev.throttle.core.KeyedRateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * One throttling rule: which requests it covers (a path prefix and methods), what it limits them by (the key), how
 * much each costs, the limit per key, and what happens beyond it (refuse, or delay up to a maximum wait). Rules are
 * tried in order; the first whose route matches a request applies to it (with the rules of its
 * {@linkplain HttpThrottle.Builder#ruleGroup group}, if any: in the text form, the rules of the same path and
 * methods), and a request no rule matches is not throttled.
 *
 * <p>In code:
 *
 * <pre>{@code
 * Rule api = Rule.builder("api")
 *     .path("/api").limit("100/s burst 20")
 *     .key(KeyResolver.header("X-API-Key").orElse(KeyResolver.ip()))
 *     .delay(Duration.ofSeconds(2))
 *     .build();
 * }</pre>
 *
 * In text (configuration files, the filter's init parameters), one rule a line, settings separated by {@code ;}:
 *
 * <pre>
 *   api: path=/api; limit=100/s burst 20; key=header:X-API-Key|ip; mode=delay; max-wait=2s
 *   uploads: path=/upload; methods=POST,PUT; limit=10/min; cost=2; on-missing-key=reject
 * </pre>
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code limit}</td><td>(required)</td><td>the core's grammar: {@code 100/s burst 20}, {@code 10/s and 1000/h}</td></tr>
 *   <tr><td>{@code path}</td><td>{@code /}</td><td>path prefix, matched by whole segments: {@code /api} covers {@code /api} and {@code /api/x}, not {@code /apix}</td></tr>
 *   <tr><td>{@code methods}</td><td>all</td><td>comma-separated, {@code GET,POST}</td></tr>
 *   <tr><td>{@code key}</td><td>{@code ip}</td><td>see {@link KeyResolver}</td></tr>
 *   <tr><td>{@code cost}</td><td>1</td><td>tokens per request, at most the limit's burst</td></tr>
 *   <tr><td>{@code mode}</td><td>{@code reject}</td><td>{@code reject}: 429 at once; {@code delay}: wait for a turn, up to {@code max-wait}, then 429</td></tr>
 *   <tr><td>{@code max-wait}</td><td>(required with delay)</td><td>{@code 500ms}, {@code 2s}, {@code 1min}</td></tr>
 *   <tr><td>{@code on-missing-key}</td><td>{@code shared}</td><td>see {@link MissingKey}</td></tr>
 *   <tr><td>{@code dry-run}</td><td>{@code false}</td><td>decide and report (headers, outcome, log), but never refuse or delay</td></tr>
 *   <tr><td>{@code id}</td><td>the name</td><td>the rule's part of every store key (see {@link #id()})</td></tr>
 * </table>
 *
 * <p>Immutable. Every setting is checked when the rule is built, and an error names the rule.
 */
public final class Rule {

  /** What happens to requests beyond the limit. */
  public enum Mode {
    /** Refuse at once with 429. */
    REJECT,
    /** Wait for a turn, first come first served, up to the rule's maximum wait; refuse (429) beyond it. */
    DELAY
  }

  /** What happens to a request the rule's key resolver finds no key in. */
  public enum MissingKey {
    /**
     * All requests without a key share one bucket (the default): they are limited together, and never escape the
     * limit nor fail because of it. Under {@code header:X-API-Key}, anonymous callers share one allowance.
     */
    SHARED,
    /** Refused with {@code 400 Bad Request} and a problem body naming what is missing. */
    REJECT,
    /** Passed on without throttling. */
    ALLOW
  }

  /** The longest rule name; names are also policy names in response headers. */
  public static final int MAX_NAME_LENGTH = 64;

  private static final String SETTINGS = "limit, path, methods, key, cost, mode, max-wait, on-missing-key, dry-run, id";

  private final String name;
  private final String id;
  private final Limit limit;
  private final String pathPrefix;
  private final Set<String> methods;
  private final KeyResolver key;
  private final long cost;
  private final ToLongFunction<RequestView> costFunction;
  private final Mode mode;
  private final Duration maxWait;
  private final MissingKey missingKey;
  private final boolean dryRun;
  private final KeyedRateLimiter<String> store;

  private Rule(Builder b) {
    this.name = b.name;
    this.id = b.id != null ? b.id : b.name;
    this.limit = b.limit;
    this.pathPrefix = b.pathPrefix;
    this.methods = Collections.unmodifiableSet(new LinkedHashSet<>(b.methods));
    this.key = b.key != null ? b.key : b.keyText != null ? KeyResolver.parse(b.keyText, b.proxies)
        : KeyResolver.ip(b.proxies);
    this.cost = b.cost;
    this.costFunction = b.costFunction;
    this.mode = b.mode;
    this.maxWait = b.maxWait;
    this.missingKey = b.missingKey;
    this.dryRun = b.dryRun;
    this.store = b.store;
  }

  /** Starts a rule named {@code name} (letters, digits, {@code . _ -}; at most {@value #MAX_NAME_LENGTH}). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /**
   * Reads one rule in the text form (see the class comment), with {@code ip} keys resolved through {@code proxies}.
   *
   * @throws IllegalArgumentException naming the rule (or saying the name is missing) and what is wrong
   */
  public static Rule parse(String text, TrustedProxies proxies) {
    Objects.requireNonNull(text, "text");
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("Invalid rule '" + text.strip() + "': expected '<name>: <setting>=<value>; ...'"
          + " (settings: " + SETTINGS + ")");
    }
    String name = text.substring(0, colon).strip();
    Builder b;
    try {
      b = builder(name).trustedProxies(proxies);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid rule in '" + text.strip() + "': " + e.getMessage(), e);
    }
    Map<String, String> settings = new LinkedHashMap<>();
    for (String item : text.substring(colon + 1).split(";", -1)) {
      if (item.isBlank()) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq < 0) {
        throw b.error("expected <setting>=<value>, found '" + item.strip() + "'");
      }
      String setting = item.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = item.substring(eq + 1).strip();
      if (settings.put(setting, value) != null) {
        throw b.error("'" + setting + "' is set twice");
      }
    }
    String mode = null;
    String maxWait = null;
    for (Map.Entry<String, String> e : settings.entrySet()) {
      String value = e.getValue();
      try {
        switch (e.getKey()) {
          case "limit" -> b.limit(value);
          case "path" -> b.path(value);
          case "methods" -> b.methods(value.split(","));
          case "key" -> b.key(value);
          case "cost" -> b.cost(parseLong("cost", value));
          case "mode" -> mode = value.toLowerCase(Locale.ROOT);
          case "max-wait" -> maxWait = value;
          case "on-missing-key" -> b.onMissingKey(parseEnum(MissingKey.class, "on-missing-key", value));
          case "dry-run" -> b.dryRun(parseBoolean("dry-run", value));
          case "id" -> b.id(value);
          default -> throw new IllegalArgumentException("unknown setting '" + e.getKey() + "' (settings: " + SETTINGS + ")");
        }
      } catch (IllegalArgumentException ex) {
        throw b.wrap(ex);
      }
    }
    if (mode == null || mode.equals("reject")) {
      if (maxWait != null) {
        throw b.error("max-wait applies to mode=delay only");
      }
      b.reject();
    } else if (mode.equals("delay")) {
      if (maxWait == null) {
        throw b.error("mode=delay needs max-wait, the longest a request may wait (for example max-wait=2s)");
      }
      try {
        Duration wait;
        try {
          wait = Durations.parse(maxWait);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("max-wait: " + e.getMessage(), e);
        }
        b.delay(wait);
      } catch (IllegalArgumentException ex) {
        throw b.wrap(ex);
      }
    } else {
      throw b.error("mode must be reject or delay, got '" + mode + "'");
    }
    return b.build();
  }

  /**
   * Reads rules one a line; blank lines and lines starting with {@code #} are skipped.
   *
   * @throws IllegalArgumentException naming the rule and its line, or two rules with the same name
   */
  public static List<Rule> parseAll(String text, TrustedProxies proxies) {
    List<Rule> rules = new ArrayList<>();
    Map<String, Integer> lines = new LinkedHashMap<>();
    String[] all = text.split("\\R", -1);
    for (int i = 0; i < all.length; i++) {
      String line = all[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Rule rule;
      try {
        rule = parse(line, proxies);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
      }
      Integer previous = lines.put(rule.name(), i + 1);
      if (previous != null) {
        throw new IllegalArgumentException("line " + (i + 1) + ": Invalid rule '" + rule.name()
            + "': the name is already used by the rule on line " + previous);
      }
      rules.add(rule);
    }
    if (rules.isEmpty()) {
      throw new IllegalArgumentException("no rule in the configuration (expected lines such as 'api: path=/api; "
          + "limit=100/s')");
    }
    return rules;
  }

  private static long parseLong(String what, String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " must be a whole number, got '" + value + "'");
    }
  }

  private static boolean parseBoolean(String what, String value) {
    switch (value.toLowerCase(Locale.ROOT)) {
      case "true":
        return true;
      case "false":
        return false;
      default:
        throw new IllegalArgumentException(what + " must be true or false, got '" + value + "'");
    }
  }

  private static <E extends Enum<E>> E parseEnum(Class<E> type, String what, String value) {
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      String n = e.name().toLowerCase(Locale.ROOT).replace('_', '-');
      if (n.equals(value.toLowerCase(Locale.ROOT))) {
        return e;
      }
      names.add(n);
    }
    throw new IllegalArgumentException(what + " must be one of " + String.join(", ", names) + ", got '" + value + "'");
  }

  /** The name: the policy name in headers and problem bodies, and in logs. */
  public String name() {
    return name;
  }

  /** The limit each key gets. */
  public Limit limit() {
    return limit;
  }

  /** The path prefix the rule covers ({@code /} for all). */
  public String pathPrefix() {
    return pathPrefix;
  }

  /** The methods the rule covers, upper case; empty for all. */
  public Set<String> methods() {
    return methods;
  }

  /** How the key is found. */
  public KeyResolver key() {
    return key;
  }

  /** The fixed cost per request; see {@link #cost(RequestView)} when a cost function is set. */
  public long cost() {
    return cost;
  }

  /**
   * The cost of {@code request}: the cost function's answer if there is one, else the fixed cost.
   *
   * @throws IllegalStateException if the cost function answers below 1 or above the limit's burst
   */
  public long cost(RequestView request) {
    if (costFunction == null) {
      return cost;
    }
    long c = costFunction.applyAsLong(request);
    if (c < 1 || c > limit.burst()) {
      throw new IllegalStateException("the cost function of rule '" + name + "' answered " + c + "; a cost must be "
          + "from 1 to the burst of '" + limit + "' (" + limit.burst() + ")");
    }
    return c;
  }

  /** Refuse or delay. */
  public Mode mode() {
    return mode;
  }

  /** The longest wait in {@link Mode#DELAY}; zero in {@link Mode#REJECT}. */
  public Duration maxWait() {
    return maxWait;
  }

  /** What happens to requests without a key. */
  public MissingKey onMissingKey() {
    return missingKey;
  }

  /** Whether the rule only reports: it never refuses nor delays. */
  public boolean isDryRun() {
    return dryRun;
  }

  /**
   * The rule's part of every store key: the throttle asks the rule's store for {@code id + ":" + key}, so that two
   * rules never share a bucket by accident, whatever store they decide through (a Redis store made from the limit
   * alone, with the same prefix for every rule, included). The name by default; two rules share buckets only when
   * they are given the same id and decide through one store (the same {@linkplain Builder#store store} given to
   * both, or a factory whose stores meet, as Redis stores with one prefix and limit do). Keep the id when renaming a
   * rule whose buckets should carry over.
   */
  public String id() {
    return id;
  }

  /** The store given to this rule, or null when the throttle's {@link StoreFactory} makes one. */
  public KeyedRateLimiter<String> store() {
    return store;
  }

  /** Whether the rule covers a request with this method and path. */
  public boolean matches(String method, String path) {
    if (!methods.isEmpty() && !methods.contains(method.toUpperCase(Locale.ROOT))) {
      return false;
    }
    if (pathPrefix.equals("/")) {
      return true;
    }
    return path.startsWith(pathPrefix)
        && (path.length() == pathPrefix.length() || path.charAt(pathPrefix.length()) == '/');
  }

  /** The text form, as {@link #parse} reads it (a cost function or a store given in code are not shown). */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(name).append(": limit=").append(limit);
    if (!pathPrefix.equals("/")) {
      sb.append("; path=").append(pathPrefix);
    }
    if (!methods.isEmpty()) {
      sb.append("; methods=").append(String.join(",", methods));
    }
    sb.append("; key=").append(key);
    if (cost != 1) {
      sb.append("; cost=").append(cost);
    }
    if (mode == Mode.DELAY) {
      sb.append("; mode=delay; max-wait=").append(Durations.format(maxWait));
    }
    if (missingKey != MissingKey.SHARED) {
      sb.append("; on-missing-key=").append(missingKey.name().toLowerCase(Locale.ROOT));
    }
    if (dryRun) {
      sb.append("; dry-run=true");
    }
    if (!id.equals(name)) {
      sb.append("; id=").append(id);
    }
    return sb.toString();
  }

  /** Configures a {@link Rule}; {@link #build()} checks everything and names the rule in every error. */
  public static final class Builder {
    private final String name;
    private String id; // null: the name
    private Limit limit;
    private String pathPrefix = "/";
    private final Set<String> methods = new LinkedHashSet<>();
    private KeyResolver key; // null: keyText, or else ip, through the proxies
    private String keyText;
    private TrustedProxies proxies = TrustedProxies.none();
    private long cost = 1;
    private ToLongFunction<RequestView> costFunction;
    private Mode mode = Mode.REJECT;
    private Duration maxWait = Duration.ZERO;
    private MissingKey missingKey = MissingKey.SHARED;
    private boolean dryRun;
    private KeyedRateLimiter<String> store;

    private Builder(String name) {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("a rule needs a name (letters, digits, '.', '_' and '-')");
      }
      if (!isName(name)) {
        throw new IllegalArgumentException("Invalid rule name '" + name + "': use letters, digits, '.', '_' and '-', "
            + "at most " + MAX_NAME_LENGTH + " characters");
      }
      this.name = name;
    }

    private static boolean isName(String s) {
      return s.length() <= MAX_NAME_LENGTH && s.matches("[A-Za-z0-9._-]+");
    }

    /**
     * The rule's part of every store key (default: its name; see {@link Rule#id()}): letters, digits,
     * {@code . _ -}, at most {@value Rule#MAX_NAME_LENGTH} characters. Give two rules one id (and one store) to make
     * them share buckets on purpose.
     */
    public Builder id(String id) {
      if (id == null || id.isEmpty() || !isName(id)) {
        throw error("the id must be letters, digits, '.', '_' and '-', at most " + MAX_NAME_LENGTH
            + " characters, got '" + id + "'");
      }
      this.id = id;
      return this;
    }

    /** The limit per key. */
    public Builder limit(Limit limit) {
      this.limit = Objects.requireNonNull(limit, "limit");
      return this;
    }

    /** The limit per key in the core's grammar ({@code 100/s burst 20}); an invalid one names this rule. */
    public Builder limit(String limit) {
      try {
        return limit(Limit.parse(limit));
      } catch (IllegalArgumentException e) {
        throw wrap(e);
      }
    }

    /** The path prefix covered, starting with {@code /}; matched by whole segments. */
    public Builder path(String prefix) {
      if (prefix == null || !prefix.startsWith("/")) {
        throw error("the path must start with '/', got '" + prefix + "'");
      }
      if (prefix.contains("?") || prefix.contains("#") || prefix.contains("//")) {
        throw error("the path must be a plain path prefix such as /api, got '" + prefix + "'");
      }
      String p = prefix;
      while (p.length() > 1 && p.endsWith("/")) {
        p = p.substring(0, p.length() - 1);
      }
      this.pathPrefix = p;
      return this;
    }

    /** The methods covered (default: all). */
    public Builder methods(String... methods) {
      this.methods.clear();
      for (String m : methods) {
        String method = m == null ? "" : m.strip();
        if (!Keys.isToken(method)) {
          throw error("'" + method + "' is not an HTTP method");
        }
        this.methods.add(method.toUpperCase(Locale.ROOT));
      }
      return this;
    }

    /** How the key is found (default: {@code ip}, through the {@linkplain #trustedProxies trusted proxies}). */
    public Builder key(KeyResolver key) {
      this.key = Objects.requireNonNull(key, "key");
      this.keyText = null;
      return this;
    }

    /**
     * How the key is found, in the text form ({@link KeyResolver#parse}), its {@code ip} read through this rule's
     * {@linkplain #trustedProxies trusted proxies}, whichever is set first.
     *
     * @throws IllegalArgumentException naming this rule, quoting the text
     */
    public Builder key(String text) {
      try {
        KeyResolver.parse(text, proxies); // checked now, so that an error is the setting's
      } catch (IllegalArgumentException e) {
        throw wrap(e);
      }
      this.keyText = text;
      this.key = null;
      return this;
    }

    /**
     * The proxies whose forwarding fields this rule's {@code ip} key believes (default none): used by the default
     * key and by {@link #key(String)}. Every reader of a rule's configuration (the text form, the gateway's flags
     * and file) sets them here, so that a rule without a key cannot miss them.
     */
    public Builder trustedProxies(TrustedProxies proxies) {
      this.proxies = Objects.requireNonNull(proxies, "proxies");
      return this;
    }

    /** The tokens each request takes (default 1); at most the limit's burst. */
    public Builder cost(long cost) {
      this.cost = cost;
      this.costFunction = null;
      return this;
    }

    /**
     * A cost computed per request (for example from a batch size). An answer below 1 or above the burst is a bug in
     * the function: the request is answered 500 and the error logged.
     */
    public Builder cost(ToLongFunction<RequestView> cost) {
      this.costFunction = Objects.requireNonNull(cost, "cost");
      return this;
    }

    /** Refuse at once beyond the limit (the default). */
    public Builder reject() {
      this.mode = Mode.REJECT;
      this.maxWait = Duration.ZERO;
      return this;
    }

    /** Wait for a turn beyond the limit, up to {@code maxWait} (not negative); refuse beyond that. */
    public Builder delay(Duration maxWait) {
      Objects.requireNonNull(maxWait, "maxWait");
      if (maxWait.isNegative()) {
        throw error("the maximum wait cannot be negative, got " + maxWait);
      }
      this.mode = Mode.DELAY;
      this.maxWait = maxWait;
      return this;
    }

    /** What to do with requests without a key (default {@link MissingKey#SHARED}). */
    public Builder onMissingKey(MissingKey policy) {
      this.missingKey = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Decide and report, but never refuse nor delay. */
    public Builder dryRun(boolean dryRun) {
      this.dryRun = dryRun;
      return this;
    }

    /**
     * The store this rule decides through, instead of one from the throttle's {@link StoreFactory}: for example a
     * Redis store shared by several servers. Its limit must be this rule's limit (or, if no limit is set, becomes it).
     */
    public Builder store(KeyedRateLimiter<String> store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * The rule.
     *
     * @throws IllegalArgumentException naming this rule: no limit, a cost out of range, a store with another limit
     */
    public Rule build() {
      if (limit == null && store != null) {
        limit = store.limit();
      }
      if (limit == null) {
        throw error("no limit (for example limit=100/s)");
      }
      if (store != null && !store.limit().equals(limit)) {
        throw error("its store enforces '" + store.limit() + "', not the rule's limit '" + limit + "'");
      }
      if (costFunction == null && (cost < 1 || cost > limit.burst())) {
        throw error(cost < 1 ? "the cost must be at least 1, got " + cost
            : "the cost " + cost + " exceeds the burst of the limit '" + limit + "' (at most " + limit.burst()
                + " tokens): such a request could never pass");
      }
      return new Rule(this);
    }

    IllegalArgumentException error(String message) {
      return new IllegalArgumentException("Invalid rule '" + name + "': " + message);
    }

    IllegalArgumentException wrap(IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("Invalid rule '" + name + "'")) {
        return e;
      }
      return new IllegalArgumentException("Invalid rule '" + name + "': " + e.getMessage(), e);
    }
  }
}
