package dev.throttle.spring;

import dev.throttle.core.Durations;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.RateLimitHeaders;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.TrustedProxies;
import dev.throttle.redis.FailurePolicy;
import dev.throttle.redis.RedisLimits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Turns {@link ThrottleProperties} into an {@link HttpThrottle} as the gateway turns its YAML into one: a route is a
 * {@linkplain HttpThrottle.Builder#ruleGroup group} of rules named {@code route} or {@code route.rule}, and every
 * value is read by the code that reads it everywhere else ({@code Rule.Builder}, {@code KeyResolver},
 * {@code Durations}, {@code TrustedProxies}, {@code RateLimitHeaders}, {@code FailurePolicy}). What differs is only
 * how an error is told: by the property's name.
 */
final class ThrottleSettings {

  private ThrottleSettings() {}

  /** The trusted proxies and the header they forward in. */
  static TrustedProxies proxies(ThrottleProperties p) {
    TrustedProxies proxies = at("throttle.trusted-proxies", p.getTrustedProxies(),
        () -> TrustedProxies.parse(String.join(",", p.getTrustedProxies())));
    String header = p.getForwardedHeader() == null ? "" : p.getForwardedHeader().strip();
    if (header.equalsIgnoreCase("Forwarded")) {
      return proxies.via(TrustedProxies.Header.FORWARDED);
    }
    if (!header.equalsIgnoreCase("X-Forwarded-For")) {
      throw new ThrottlePropertyException("throttle.forwarded-header", p.getForwardedHeader(),
          "must be X-Forwarded-For or Forwarded", null);
    }
    return proxies;
  }

  /** The rules of each route, in order. */
  static List<List<Rule>> routes(ThrottleProperties p) {
    if (p.getRoutes().isEmpty()) {
      throw new ThrottlePropertyException("throttle.routes", null, "no routes: give at least one route with a rule"
          + " (throttle.routes[0].path: /api, throttle.routes[0].rules[0].limit: 100/s), or turn Throttle off with"
          + " throttle.enabled=false", null);
    }
    TrustedProxies proxies = proxies(p);
    List<List<Rule>> routes = new ArrayList<>();
    for (int i = 0; i < p.getRoutes().size(); i++) {
      routes.add(route(p.getRoutes().get(i), "throttle.routes[" + i + "]", i + 1, proxies));
    }
    return routes;
  }

  private static List<Rule> route(ThrottleProperties.Route r, String at, int index, TrustedProxies proxies) {
    String name = r.getName() == null ? "route-" + index : r.getName().strip();
    if (r.getRules().isEmpty()) {
      throw new ThrottlePropertyException(at + ".rules", null, "route '" + name + "' has no rules (give at least one,"
          + " such as " + at + ".rules[0].limit: 100/s)", null);
    }
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < r.getRules().size(); i++) {
      ThrottleProperties.RuleSpec spec = r.getRules().get(i);
      String ruleAt = at + ".rules[" + i + "]";
      String ruleName = spec.getName() != null ? name + "." + spec.getName().strip()
          : r.getRules().size() == 1 ? name : name + "." + (i + 1);
      rules.add(rule(r, spec, ruleName, at, ruleAt, proxies));
    }
    return rules;
  }

  private static Rule rule(ThrottleProperties.Route r, ThrottleProperties.RuleSpec s, String name, String routeAt,
      String at, TrustedProxies proxies) {
    Rule.Builder b = at(s.getName() != null ? at + ".name" : routeAt + ".name", name,
        () -> Rule.builder(name).trustedProxies(proxies));
    at(routeAt + ".path", r.getPath(), () -> b.path(r.getPath()));
    if (!r.getMethods().isEmpty()) {
      at(routeAt + ".methods", String.join(",", r.getMethods()), () -> b.methods(r.getMethods().toArray(String[]::new)));
    }
    if (s.getLimit() == null || s.getLimit().isBlank()) {
      throw new ThrottlePropertyException(at + ".limit", null, "rule '" + name + "' has no limit (for example"
          + " 100/s burst 20)", null);
    }
    at(at + ".limit", s.getLimit(), () -> b.limit(s.getLimit()));
    at(at + ".key", s.getKey(), () -> b.key(s.getKey()));
    b.onMissingKey(s.getOnMissingKey()).dryRun(s.isDryRun());
    if (s.getMode() == Rule.Mode.DELAY) {
      if (s.getMaxWait() == null) {
        throw new ThrottlePropertyException(at + ".max-wait", null, "rule '" + name + "': mode delay needs max-wait,"
            + " the longest a request may wait (for example 2s)", null);
      }
      Duration wait = duration(at + ".max-wait", s.getMaxWait());
      at(at + ".max-wait", s.getMaxWait(), () -> b.delay(wait));
    } else if (s.getMaxWait() != null) {
      throw new ThrottlePropertyException(at + ".max-wait", s.getMaxWait(), "rule '" + name + "': max-wait applies"
          + " to mode delay only", null);
    }
    b.cost(s.getCost());
    return at(s.getCost() != 1 ? at + ".cost" : at + ".limit", s.getCost() != 1 ? s.getCost() : s.getLimit(), b::build);
  }

  /** The throttle's builder, with every route and setting but the store. */
  static HttpThrottle.Builder builder(ThrottleProperties p) {
    HttpThrottle.Builder b = HttpThrottle.builder().legacyHeaders(p.isLegacyHeaders());
    at("throttle.rate-limit-headers", p.getRateLimitHeaders(),
        () -> b.rateLimitHeaders(RateLimitHeaders.parse(p.getRateLimitHeaders())));
    for (List<Rule> group : routes(p)) {
      b.ruleGroup(group);
    }
    return b;
  }

  /** Whether the store is Redis rather than this process's memory. */
  static boolean isRedis(ThrottleProperties p) {
    String store = p.getStore() == null ? "" : p.getStore().strip().toLowerCase(Locale.ROOT);
    if (store.equals("memory")) {
      return false;
    }
    if (store.startsWith("redis://") || store.startsWith("rediss://") || store.startsWith("redis-sentinel://")
        || store.startsWith("redis-cluster://") || store.startsWith("rediss-cluster://")) {
      return true;
    }
    throw new ThrottlePropertyException("throttle.store", p.getStore(), "must be memory or a Redis URI"
        + " (redis://host:port, rediss://..., redis-sentinel://host:port#master, redis-cluster://host:port,host:port)",
        null);
  }

  /** The memory store's factory. */
  static StoreFactory memory(ThrottleProperties p) {
    return at("throttle.max-keys", p.getMaxKeys(), () -> StoreFactory.inMemory(p.getMaxKeys()));
  }

  /** Connects to the Redis store (waiting for the first attempt only: a Redis away is the failure policy's). */
  static RedisLimits connect(ThrottleProperties p) {
    return at("throttle.store", p.getStore(), () -> RedisLimits.connect(p.getStore().strip()));
  }

  /**
   * Each rule's store on a Redis connection: the prefix, then the rule's name, then the caller's key. Every setting is
   * checked here, before anything connects.
   */
  static Function<RedisLimits, StoreFactory> redis(ThrottleProperties p) {
    Duration timeout = duration("throttle.redis-timeout", p.getRedisTimeout());
    if (timeout.isZero() || timeout.isNegative()) {
      throw new ThrottlePropertyException("throttle.redis-timeout", p.getRedisTimeout(), "must be positive", null);
    }
    FailurePolicy failure = at("throttle.on-redis-failure", p.getOnRedisFailure(),
        () -> FailurePolicy.parse(p.getOnRedisFailure()));
    String prefix = p.getRedisPrefix();
    if (prefix == null || prefix.contains("{") || prefix.contains("}")) {
      throw new ThrottlePropertyException("throttle.redis-prefix", prefix, "cannot contain braces (the caller key is"
          + " the Cluster hash tag)", null);
    }
    long lease = p.getRedisLease();
    if (lease < 0) {
      throw new ThrottlePropertyException("throttle.redis-lease", lease, "must be 0 (no lease) or a number of tokens",
          null);
    }
    return redis -> rule -> redis.limiter(rule.limit())
        .prefix(prefix + rule.name() + ":")
        .timeout(timeout)
        .onFailure(failure)
        .leaseAtMost(lease)
        .build();
  }

  private static Duration duration(String property, String text) {
    return at(property, text, () -> Durations.parse(text));
  }

  /** Runs a setter, turning its error into one naming {@code property}. */
  private static <T> T at(String property, Object value, Supplier<T> setter) {
    try {
      return setter.get();
    } catch (ThrottlePropertyException e) {
      throw e;
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new ThrottlePropertyException(property, value, String.valueOf(e.getMessage()), e);
    }
  }
}
