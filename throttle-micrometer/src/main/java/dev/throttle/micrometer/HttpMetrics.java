package dev.throttle.micrometer;

import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Verdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Meters for the HTTP throttle's verdicts (the Servlet filter's, the gateway's, the starter's): give it to
 * {@link HttpThrottle.Builder#onVerdict}.
 *
 * <ul>
 *   <li>{@code <prefix>.requests{rule, outcome}} (counter): every rule's verdict, outcome in lower case
 *       ({@code allowed}, {@code delayed}, {@code refused}, {@code dry_run_refused}, {@code client_gone}, ...);
 *   <li>{@code <prefix>.wait{rule}} (timer): the waits of delayed requests;
 *   <li>{@code <prefix>.unrouted.requests} (counter): verdicts with no rule (a request no rule covers).
 * </ul>
 *
 * <p>The prefix is {@code throttle.http} by {@link #of(MeterRegistry) default} (Prometheus:
 * {@code throttle_http_requests_total}); the gateway uses {@code throttle.gateway} and adds a {@code route} tag.
 * Counters of a rule are found in a map once per verdict (no allocation after the first); thread-safe.
 */
public final class HttpMetrics implements Consumer<Verdict> {

  private static final Verdict.Outcome[] OUTCOMES = Verdict.Outcome.values();

  private final MeterRegistry registry;
  private final String prefix;
  private final Function<String, Tags> ruleTags;
  private final Map<String, RuleMeters> rules = new ConcurrentHashMap<>();
  private final Counter unrouted;

  private final class RuleMeters {
    final Tags tags;
    final Counter[] byOutcome = new Counter[OUTCOMES.length];
    final Timer wait;

    RuleMeters(String rule) {
      this.tags = ruleTags.apply(rule).and("rule", rule);
      this.wait = Timer.builder(prefix + ".wait").description("Waits of delayed requests").tags(tags)
          .register(registry);
    }

    Counter counter(Verdict.Outcome o) {
      Counter c = byOutcome[o.ordinal()];
      if (c == null) {
        c = Counter.builder(prefix + ".requests")
            .description("Verdicts per rule: allowed, delayed, refused (429), and the other outcomes")
            .tags(tags).tag("outcome", o.name().toLowerCase(Locale.ROOT)).register(registry);
        byOutcome[o.ordinal()] = c; // a race registers the same counter twice: the registry returns one
      }
      return c;
    }
  }

  private HttpMetrics(MeterRegistry registry, String prefix, Function<String, Tags> ruleTags) {
    this.registry = registry;
    this.prefix = prefix;
    this.ruleTags = ruleTags;
    this.unrouted = Counter.builder(prefix + ".unrouted.requests")
        .description("Requests no rule covers, passed on untouched").register(registry);
  }

  /** Meters named {@code throttle.http.*}. */
  public static HttpMetrics of(MeterRegistry registry) {
    return of(registry, "throttle.http", rule -> Tags.empty());
  }

  /**
   * Meters named {@code prefix.*}, each rule's tagged with {@code ruleTags.apply(rule)} besides {@code rule}.
   *
   * @throws IllegalArgumentException if {@code prefix} is blank
   */
  public static HttpMetrics of(MeterRegistry registry, String prefix, Function<String, Tags> ruleTags) {
    Objects.requireNonNull(prefix, "prefix");
    if (prefix.isBlank()) {
      throw new IllegalArgumentException("a metric prefix cannot be blank, got '" + prefix + "'");
    }
    return new HttpMetrics(Objects.requireNonNull(registry, "registry"), prefix,
        Objects.requireNonNull(ruleTags, "ruleTags"));
  }

  /**
   * Registers {@code rule}'s counters of allowed, delayed and refused now, so that a scrape shows them at 0 before
   * the first request.
   */
  public HttpMetrics register(String rule) {
    RuleMeters m = meters(rule);
    m.counter(Verdict.Outcome.ALLOWED);
    m.counter(Verdict.Outcome.DELAYED);
    m.counter(Verdict.Outcome.REFUSED);
    return this;
  }

  @Override
  public void accept(Verdict v) {
    if (v.ruleName() == null) {
      unrouted.increment();
      return;
    }
    RuleMeters m = meters(v.ruleName());
    m.counter(v.outcome()).increment();
    if (v.outcome() == Verdict.Outcome.DELAYED) {
      m.wait.record(v.waited().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** The count of {@code outcome} under {@code rule} so far. */
  public long count(String rule, Verdict.Outcome outcome) {
    RuleMeters m = rules.get(rule);
    Counter c = m == null ? null : m.byOutcome[outcome.ordinal()];
    return c == null ? 0 : (long) c.count();
  }

  private RuleMeters meters(String rule) {
    RuleMeters m = rules.get(rule);
    return m != null ? m : rules.computeIfAbsent(rule, RuleMeters::new);
  }
}
