package dev.throttle.http;

import dev.throttle.core.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Server-side throttling, framework-neutral: rules, keys, stores and the responses they lead to, with no server types
 * in it. An adapter (the Servlet filter, the gateway) turns its request into a {@link RequestView}, calls
 * {@link #admit}, and carries out the {@link Verdict}: pass the request on with the rate-limit headers, or answer
 * with the status, headers and problem body given.
 *
 * <pre>{@code
 * HttpThrottle throttle = HttpThrottle.builder()
 *     .rule(Rule.builder("api").path("/api").limit("100/s burst 20")
 *         .key(KeyResolver.header("X-API-Key").orElse(KeyResolver.ip()))
 *         .delay(Duration.ofSeconds(2)).build())
 *     .build();
 * }</pre>
 *
 * <h2>Waiting without a thread, and giving up</h2>
 *
 * In delay mode a request beyond the limit takes a place in its key's queue ({@code KeyedRateLimiter.reserveAsync}) and its
 * verdict completes when its turn comes. Until then no thread is held. The place is given up, and its tokens
 * returned, when the adapter {@linkplain Admission#cancel cancels} (the client went away; the adapter's timeout) and
 * when the throttle is {@linkplain #close() closed}.
 *
 * <h2>Several limits on one request</h2>
 *
 * A {@linkplain Builder#ruleGroup(List) group of rules} applies together to the requests of one route (a limit per
 * address and another per API key, say): each rule of the group decides in turn, in the order given, and the request
 * passes only if every one lets it pass. The response carries the fields of every rule that decided.
 *
 * <h2>Shutting down</h2>
 *
 * {@link #close()} answers every request still waiting with {@code 503} and {@code Retry-After}, at once and in the
 * calling thread, and answers every later request a rule covers the same way. Call it at the start of the application's shutdown,
 * while connections are still open, so that the answers reach the clients.
 *
 * <p>Thread-safe.
 */
public interface HttpThrottle extends AutoCloseable {

  /** A builder. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Admits one request: finds the first rule covering it, its key and cost, and asks the rule's store. Never throws
   * for anything the request carries: missing or invalid keys, failing stores and bugs in configured functions all
   * become verdicts.
   */
  Admission admit(RequestView request);

  /** The rules, in the order they are tried (the rules of a group in their order). */
  List<Rule> rules();

  /** Requests admitted and not yet decided: waiting their turn, or waiting for the store to answer. */
  int waiting();

  /** Whether {@link #close()} was called. */
  boolean isClosed();

  /**
   * Shuts down: every request still waiting gets {@code 503} with {@code Retry-After} (its place given up and its
   * tokens returned) before this returns, and every later request a rule covers gets {@code 503} at once (requests
   * no rule covers still pass). Idempotent.
   */
  @Override
  void close();

  /** Configures an {@link HttpThrottle}. */
  final class Builder {
    final List<Rule> rules = new ArrayList<>();
    final List<String> ruleTexts = new ArrayList<>();
    final List<List<Rule>> groups = new ArrayList<>(); // null where rules holds a single rule or text
    TrustedProxies proxies = TrustedProxies.none();
    StoreFactory stores = StoreFactory.inMemory();
    boolean legacyHeaders = true;
    RateLimitHeaders headers = RateLimitHeaders.DRAFT_10;
    Clock clock = Clock.system();
    Consumer<Verdict> listener = v -> {};

    private Builder() {}

    /** Adds a rule; rules are tried in the order added. */
    public Builder rule(Rule rule) {
      rules.add(Objects.requireNonNull(rule, "rule"));
      ruleTexts.add(null);
      groups.add(null);
      return this;
    }

    /**
     * Adds rules that apply together: a request that the group's route covers is decided by every rule of the group,
     * in the order given, and passes only if each one lets it pass (each rule waits its turn in delay mode before the
     * next one decides). The group takes its place in the order of rules like a single rule. The response carries
     * every deciding rule's {@code RateLimit-Policy} and {@code RateLimit} items, and the legacy
     * {@code X-RateLimit-*} fields of the rule with the fewest tokens left (of the refusing rule on a 429).
     *
     * <p>Not all or nothing: tokens taken by the rules before the one that refuses stay spent, so the limits hold
     * with room to spare. Put the rule most likely to refuse first. A store cannot take tokens back once taken, and
     * the rules of a group may live in different stores.
     *
     * <p>Keys and costs of every rule are found when the request is admitted (the request is not read later); a
     * missing key under {@link Rule.MissingKey#ALLOW} skips that rule only, and a missing or invalid key answered
     * {@code 400} stops the request before any tokens are taken. The {@linkplain #onVerdict listener} hears the
     * verdict of each rule that decided (and {@code UNTHROTTLED} from a rule skipped for want of its key); the
     * adapter gets the group's verdict.
     *
     * @throws IllegalArgumentException if {@code rules} is empty, or its rules do not all cover the same route (path
     *     prefix and methods)
     */
    public Builder ruleGroup(List<Rule> rules) {
      List<Rule> group = List.copyOf(rules);
      if (group.isEmpty()) {
        throw new IllegalArgumentException("a group of rules needs at least one rule");
      }
      Rule first = group.get(0);
      for (Rule r : group) {
        if (!r.pathPrefix().equals(first.pathPrefix()) || !r.methods().equals(first.methods())) {
          throw new IllegalArgumentException("Invalid rule '" + r.name() + "': the rules of a group cover one route,"
              + " and it covers " + route(r) + " where '" + first.name() + "' covers " + route(first));
        }
      }
      this.rules.add(first);
      ruleTexts.add(null);
      groups.add(group);
      return this;
    }

    private static String route(Rule r) {
      return "path " + r.pathPrefix() + (r.methods().isEmpty() ? " (all methods)" : " " + r.methods());
    }

    /**
     * Adds rules in the text form ({@link Rule#parseAll}), read when {@link #build()} is called, with {@code ip}
     * keys resolved through {@link #trustedProxies}. Rules of the text that cover the same route (the same path and
     * methods) are a {@linkplain #ruleGroup group}, in their order, at the place of the first of them: for example
     * a limit per address and another per API key on {@code /api}.
     */
    public Builder rules(String text) {
      rules.add(null);
      ruleTexts.add(Objects.requireNonNull(text, "text"));
      groups.add(null);
      return this;
    }

    /** The proxies whose forwarding headers {@code ip} keys of rules given as text believe (default: none). */
    public Builder trustedProxies(TrustedProxies proxies) {
      this.proxies = Objects.requireNonNull(proxies, "proxies");
      return this;
    }

    /** Where rules without a store of their own keep their buckets (default: in memory). */
    public Builder stores(StoreFactory stores) {
      this.stores = Objects.requireNonNull(stores, "stores");
      return this;
    }

    /**
     * Whether to send {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset} beside the draft fields of
     * {@link #rateLimitHeaders} (default true).
     */
    public Builder legacyHeaders(boolean legacyHeaders) {
      this.legacyHeaders = legacyHeaders;
      return this;
    }

    /**
     * Which rate-limit fields responses carry (default {@link RateLimitHeaders#DRAFT_10}): the IETF draft's in the
     * dialect clients understand, only the legacy {@code X-RateLimit-*}, or none.
     */
    public Builder rateLimitHeaders(RateLimitHeaders headers) {
      this.headers = Objects.requireNonNull(headers, "headers");
      return this;
    }

    /** The clock for waiting times reported in verdicts (default: the system's). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Called with every verdict, once, in the thread that decided it and before the adapter acts on it (for metrics
     * and logs; keep it fast). An exception it throws is logged and ignored.
     */
    public Builder onVerdict(Consumer<Verdict> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The throttle, with a store for each rule.
     *
     * @throws IllegalArgumentException naming the rule: invalid rule text, two rules with one name, a store that
     *     cannot be made; or when there is no rule at all, or legacy fields are both asked for and turned off
     */
    public HttpThrottle build() {
      if (headers == RateLimitHeaders.LEGACY && !legacyHeaders) {
        throw new IllegalArgumentException("rate-limit-headers=legacy sends only the X-RateLimit-* fields, which "
            + "legacy-headers=false turns off: for no rate-limit field at all, use rate-limit-headers=none");
      }
      List<List<Rule>> all = new ArrayList<>();
      for (int i = 0; i < rules.size(); i++) {
        if (groups.get(i) != null) {
          all.add(groups.get(i));
        } else if (rules.get(i) != null) {
          all.add(List.of(rules.get(i)));
        } else {
          // Rules of one route (the same path and methods) are a group, where the first of them stands.
          Map<String, List<Rule>> byRoute = new LinkedHashMap<>();
          for (Rule r : Rule.parseAll(ruleTexts.get(i), proxies)) {
            byRoute.computeIfAbsent(r.pathPrefix() + " " + new TreeSet<>(r.methods()), k -> new ArrayList<>()).add(r);
          }
          all.addAll(byRoute.values());
        }
      }
      return new DefaultHttpThrottle(this, all);
    }
  }
}
