package dev.throttle.client;

import java.math.BigDecimal;
import java.net.http.HttpHeaders;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What one response says about the server's quota, in whichever dialect the server speaks. Read from every response,
 * not only from a {@code 429}. The dialects, most specific first:
 *
 * <table>
 *   <caption>Header fields read</caption>
 *   <tr><th>dialect</th><th>fields</th><th>sent by</th></tr>
 *   <tr><td>IETF draft-10 (and -8, -9)</td><td>{@code RateLimit-Policy: "p";q=50;w=1},
 *       {@code RateLimit: "p";r=49;t=1}: lists of named items</td><td>throttle gateway, express-rate-limit
 *       {@code draft-8}</td></tr>
 *   <tr><td>IETF draft-7</td><td>{@code RateLimit: limit=50, remaining=49, reset=1} (one dictionary),
 *       {@code RateLimit-Policy: 50;w=1}</td><td>express-rate-limit {@code draft-7}</td></tr>
 *   <tr><td>IETF draft-6</td><td>{@code RateLimit-Limit}, {@code RateLimit-Remaining}, {@code RateLimit-Reset}
 *       (seconds), {@code RateLimit-Policy: 50;w=1}</td><td>express-rate-limit {@code draft-6}, many
 *       gateways</td></tr>
 *   <tr><td>legacy</td><td>{@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining}, {@code X-RateLimit-Reset}
 *       (seconds, or a Unix time in seconds or milliseconds)</td><td>GitHub, express-rate-limit (legacy), throttle
 *       gateway</td></tr>
 * </table>
 *
 * <p>With several policies, the one with the fewest remaining is the binding one: its {@code r}, its {@code t}, and
 * its {@code q}/{@code w} when the policy field names it (else the only, or the first, policy). A value that cannot
 * be read is ignored (the wait fields' problems are reported by {@link ServerWait}).
 *
 * <p>{@code t} and {@code Reset} are whole seconds that servers round up (the draft says so; express-rate-limit and
 * the gateway do): the true reset lies in {@code (t - 1, t]} seconds from the moment the server answered. Immutable;
 * {@link #parse} is pure.
 */
final class QuotaFields {

  static final QuotaFields NONE = new QuotaFields(null, null, null, null, null);

  private final Long quota; // q: requests per window
  private final BigDecimal windowSeconds; // w
  private final Long remaining; // r
  private final BigDecimal resetSeconds; // t, from the response
  private final String dialect;

  private QuotaFields(Long quota, BigDecimal windowSeconds, Long remaining, BigDecimal resetSeconds, String dialect) {
    this.quota = quota;
    this.windowSeconds = windowSeconds;
    this.remaining = remaining;
    this.resetSeconds = resetSeconds;
    this.dialect = dialect;
  }

  Optional<Long> quota() {
    return Optional.ofNullable(quota);
  }

  Optional<BigDecimal> windowSeconds() {
    return Optional.ofNullable(windowSeconds);
  }

  Optional<Long> remaining() {
    return Optional.ofNullable(remaining);
  }

  Optional<BigDecimal> resetSeconds() {
    return Optional.ofNullable(resetSeconds);
  }

  /** The published rate, {@code q / w} per second, when both are known and positive. */
  Optional<Double> ratePerSecond() {
    if (quota == null || windowSeconds == null || quota <= 0 || windowSeconds.signum() <= 0) {
      return Optional.empty();
    }
    return Optional.of(quota / windowSeconds.doubleValue());
  }

  /** Which fields the values came from ({@code "RateLimit (draft-10)"}), or null when none. */
  String dialect() {
    return dialect;
  }

  boolean isEmpty() {
    return quota == null && remaining == null && resetSeconds == null;
  }

  static QuotaFields parse(HttpHeaders headers, Instant now) {
    Instant reference = headers.firstValue("Date").flatMap(ServerWait::httpDate).orElse(now);
    Map<String, long[]> policies = new HashMap<>(); // name -> {q, w} (w in seconds; -1 unknown)
    String firstPolicy = null;
    Optional<String> policyField = headers.firstValue("RateLimit-Policy");
    if (policyField.isPresent()) {
      for (String item : policyField.get().split(",")) {
        String[] parts = item.split(";");
        String name = parts[0].trim();
        long q = -1;
        long w = -1;
        if (ServerWait.isDigits(name)) { // draft-6/7: the quota is the item itself
          q = parseLong(name);
        }
        for (int i = 1; i < parts.length; i++) {
          String[] kv = keyValue(parts[i]);
          if (kv == null) {
            continue;
          }
          if (kv[0].equals("q") && ServerWait.isDigits(kv[1])) {
            q = parseLong(kv[1]);
          } else if (kv[0].equals("w") && ServerWait.isDigits(kv[1])) {
            w = parseLong(kv[1]);
          }
        }
        if (q >= 0) {
          policies.putIfAbsent(name, new long[] {q, w});
          firstPolicy = firstPolicy == null ? name : firstPolicy;
        }
      }
    }

    Long quota = null;
    BigDecimal window = null;
    Long remaining = null;
    BigDecimal reset = null;
    String dialect = null;
    Optional<String> rateLimit = headers.firstValue("RateLimit");
    if (rateLimit.isPresent()) {
      String binding = null;
      Long dictLimit = null;
      for (String item : rateLimit.get().split(",")) {
        String[] parts = item.split(";");
        String[] member = keyValue(parts[0]);
        if (member != null) { // draft-7 dictionary: limit=, remaining=, reset=
          if (member[0].equals("limit") && ServerWait.isDigits(member[1])) {
            dictLimit = parseLong(member[1]);
          } else if (member[0].equals("remaining") && ServerWait.isDigits(member[1])) {
            remaining = parseLong(member[1]);
          } else if (member[0].equals("reset") && ServerWait.isDigits(member[1])) {
            reset = new BigDecimal(member[1]);
          }
          dialect = "RateLimit (draft-7)";
          continue;
        }
        Long r = null;
        BigDecimal t = null;
        for (int i = 1; i < parts.length; i++) {
          String[] kv = keyValue(parts[i]);
          if (kv != null && kv[0].equals("r") && ServerWait.isDigits(kv[1])) {
            r = parseLong(kv[1]);
          } else if (kv != null && kv[0].equals("t") && ServerWait.isDigits(kv[1])) {
            t = new BigDecimal(kv[1]);
          }
        }
        if (r != null && (remaining == null || r < remaining)) {
          remaining = r;
          reset = t;
          binding = parts[0].trim();
          dialect = "RateLimit (draft-10)";
        }
      }
      if (dictLimit != null) {
        quota = dictLimit;
      }
      long[] p = binding != null && policies.containsKey(binding) ? policies.get(binding)
          : firstPolicy != null ? policies.get(firstPolicy) : null;
      if (p != null) {
        quota = quota == null ? Long.valueOf(p[0]) : quota;
        window = p[1] >= 0 ? BigDecimal.valueOf(p[1]) : null;
      }
    }
    if (remaining == null) {
      Long r = number(headers, "RateLimit-Remaining");
      if (r != null) {
        remaining = r;
        quota = firstNumber(headers.firstValue("RateLimit-Limit").orElse(""));
        reset = headers.firstValue("RateLimit-Reset").map(String::trim).filter(ServerWait::isDigits)
            .map(BigDecimal::new).orElse(null);
        long[] p = firstPolicy != null ? policies.get(firstPolicy) : null;
        if (p != null) {
          quota = quota == null ? Long.valueOf(p[0]) : quota;
          window = p[1] >= 0 ? BigDecimal.valueOf(p[1]) : null;
        }
        dialect = "RateLimit-Remaining (draft-6)";
      }
    }
    if (remaining == null) {
      Long r = number(headers, "X-RateLimit-Remaining");
      if (r != null) {
        remaining = r;
        quota = number(headers, "X-RateLimit-Limit");
        reset = headers.firstValue("X-RateLimit-Reset").map(v -> legacyReset(v.trim(), reference)).orElse(null);
        dialect = "X-RateLimit-Remaining";
      }
    }
    if (quota == null && remaining == null && firstPolicy != null) {
      long[] p = policies.get(firstPolicy);
      quota = p[0];
      window = p[1] >= 0 ? BigDecimal.valueOf(p[1]) : null;
      dialect = "RateLimit-Policy";
    }
    if (quota == null && remaining == null && reset == null) {
      return NONE;
    }
    return new QuotaFields(quota, window, remaining, reset, dialect);
  }

  /** {@code X-RateLimit-Reset}: seconds, or a Unix time in seconds (from 10^9) or milliseconds (from 10^12). */
  private static BigDecimal legacyReset(String v, Instant reference) {
    if (!ServerWait.isDigits(v)) {
      return null;
    }
    BigDecimal n = new BigDecimal(v);
    if (n.compareTo(BigDecimal.valueOf(1_000_000_000L)) < 0) {
      return n;
    }
    BigDecimal epochSeconds = n.compareTo(BigDecimal.valueOf(1_000_000_000_000L)) >= 0 ? n.movePointLeft(3) : n;
    BigDecimal s = epochSeconds.subtract(BigDecimal.valueOf(reference.getEpochSecond()));
    return s.signum() < 0 ? BigDecimal.ZERO : s;
  }

  private static String[] keyValue(String part) {
    int eq = part.indexOf('=');
    if (eq <= 0) {
      return null;
    }
    return new String[] {part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim()};
  }

  private static Long number(HttpHeaders headers, String name) {
    return headers.firstValue(name).map(String::trim).filter(ServerWait::isDigits).map(QuotaFields::parseLong)
        .orElse(null);
  }

  /** The first number of a draft-6 {@code RateLimit-Limit} ({@code 50} or {@code 50, 50;w=1}). */
  private static Long firstNumber(String value) {
    String first = value.split("[,;]")[0].trim();
    return ServerWait.isDigits(first) ? parseLong(first) : null;
  }

  private static long parseLong(String digits) {
    return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
  }

  @Override
  public String toString() {
    return isEmpty() ? "no quota fields" : dialect + ": q=" + quota + " w=" + windowSeconds + " r=" + remaining
        + " t=" + resetSeconds;
  }
}
