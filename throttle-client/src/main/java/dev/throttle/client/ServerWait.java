package dev.throttle.client;

import java.math.BigDecimal;
import java.net.http.HttpHeaders;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How long a server asked the client to wait, read from a response's headers, in this order of precedence:
 *
 * <ol>
 *   <li>{@code Retry-After}: delay-seconds ({@code 120}) or an HTTP-date ({@code Wed, 21 Oct 2015 07:28:00 GMT});
 *   <li>{@code RateLimit} (IETF draft): the {@code t=} parameter of the policies with {@code r=0} (all policies when
 *       none says {@code r=0}), the longest of them; the older {@code reset=} member is read too;
 *   <li>{@code X-RateLimit-Reset}: seconds to wait, or, when the number is that of a Unix time (from 10^9 on, that
 *       is after 2001; from 10^12 on, in milliseconds), the moment of the reset, as GitHub sends it.
 * </ol>
 *
 * <p>An HTTP-date or a reset moment is measured from the response's {@code Date} header when it has one (the server's
 * own clock, so a skewed client clock does not matter), else from the client's wall clock; a moment in the past
 * means no wait. A header that cannot be read (negative, not a number, not a date) is reported as
 * {@linkplain #problems() a problem} and the next one is tried. Values too large for a {@code long} saturate; the
 * client compares the wait with the policy's maximum.
 *
 * <p>Immutable; {@link #parse} is pure (time is an argument).
 */
final class ServerWait {

  private final Duration wait; // null: no usable header; saturated at about 292 years
  private final BigDecimal askedSeconds; // the wait as the server sent it, never saturated
  private final String source;
  private final List<String> problems;

  private ServerWait(BigDecimal askedSeconds, String source, List<String> problems) {
    this.askedSeconds = askedSeconds == null ? null : askedSeconds.max(BigDecimal.ZERO);
    this.wait = askedSeconds == null ? null : seconds(this.askedSeconds);
    this.source = source;
    this.problems = List.copyOf(problems);
  }

  /**
   * The wait as the server asked for it, in seconds, without the saturation of {@link #waitTime()}: what a message
   * about an absurd wait quotes ({@code 99999999999999999999 s}, not the 292 years a {@link Duration} holds).
   */
  String askedText() {
    if (askedSeconds == null) {
      return "no wait";
    }
    BigDecimal s = askedSeconds.stripTrailingZeros();
    return (s.scale() > 3 ? s.setScale(3, java.math.RoundingMode.UP) : s).toPlainString() + " s";
  }

  /** The wait asked for, if some header gave one. */
  Optional<Duration> waitTime() {
    return Optional.ofNullable(wait);
  }

  /** The header the wait came from ({@code "Retry-After: 2"}), or null. */
  String source() {
    return source;
  }

  /** Headers that were present but could not be read, each with the reason. */
  List<String> problems() {
    return problems;
  }

  static ServerWait parse(HttpHeaders headers, Instant now) {
    List<String> problems = new ArrayList<>();
    Instant reference = headers.firstValue("Date").flatMap(ServerWait::httpDate).orElse(now);

    Optional<String> retryAfter = headers.firstValue("Retry-After");
    if (retryAfter.isPresent()) {
      String v = retryAfter.get().trim();
      BigDecimal d = null;
      if (isDigits(v)) {
        d = new BigDecimal(v);
      } else {
        Optional<Instant> date = httpDate(v);
        if (date.isPresent()) {
          d = until(reference, date.get());
        }
      }
      if (d != null) {
        return new ServerWait(d, "Retry-After: " + v, problems);
      }
      problems.add("Retry-After '" + v + "' is neither delay-seconds nor an HTTP-date");
    }

    Optional<String> rateLimit = headers.firstValue("RateLimit");
    if (rateLimit.isPresent()) {
      String v = rateLimit.get().trim();
      BigDecimal d = rateLimitReset(v);
      if (d != null) {
        return new ServerWait(d, "RateLimit: " + v, problems);
      }
      problems.add("RateLimit '" + v + "' has no valid t= (seconds until the quota resets)");
    }

    Optional<String> reset = headers.firstValue("X-RateLimit-Reset");
    if (reset.isPresent()) {
      String v = reset.get().trim();
      BigDecimal d = null;
      if (isDecimal(v)) {
        BigDecimal n = new BigDecimal(v);
        if (n.compareTo(BigDecimal.valueOf(1_000_000_000_000L)) >= 0) {
          d = untilMillis(reference, n);
        } else if (n.compareTo(BigDecimal.valueOf(1_000_000_000L)) >= 0) {
          d = untilMillis(reference, n.movePointRight(3));
        } else {
          d = n;
        }
      }
      if (d != null) {
        return new ServerWait(d, "X-RateLimit-Reset: " + v, problems);
      }
      problems.add("X-RateLimit-Reset '" + v + "' is not a non-negative number");
    }
    return new ServerWait(null, null, problems);
  }

  /** The {@code t} of the policies with {@code r=0} (or of all when none has it), the longest; null if none valid. */
  private static BigDecimal rateLimitReset(String value) {
    BigDecimal exhausted = null;
    BigDecimal any = null;
    boolean invalid = false;
    for (String item : value.split(",")) {
      BigDecimal t = null;
      Long r = null;
      for (String part : item.split(";")) {
        int eq = part.indexOf('=');
        if (eq < 0) {
          continue; // the policy name
        }
        String key = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
        String val = part.substring(eq + 1).trim();
        if (key.equals("t") || key.equals("reset")) {
          if (!isDigits(val)) {
            invalid = true;
            continue;
          }
          t = new BigDecimal(val);
        } else if ((key.equals("r") || key.equals("remaining")) && isDigits(val)) {
          r = val.length() > 18 ? Long.MAX_VALUE : Long.parseLong(val);
        }
      }
      if (t != null) {
        BigDecimal d = t;
        any = any == null || d.compareTo(any) > 0 ? d : any;
        if (r != null && r == 0) {
          exhausted = exhausted == null || d.compareTo(exhausted) > 0 ? d : exhausted;
        }
      }
    }
    if (exhausted != null) {
      return exhausted;
    }
    return invalid && any == null ? null : any;
  }

  private static final Duration MAX = Duration.ofSeconds(Long.MAX_VALUE / 1_000_000_000L);

  private static Duration seconds(BigDecimal s) {
    BigDecimal nanos = s.movePointRight(9);
    if (nanos.compareTo(BigDecimal.valueOf(MAX.toNanos())) >= 0) {
      return MAX;
    }
    return Duration.ofNanos(nanos.longValue());
  }

  /** Seconds from {@code from} to {@code to}; 0 when {@code to} is not later. */
  private static BigDecimal until(Instant from, Instant to) {
    if (!to.isAfter(from)) {
      return BigDecimal.ZERO;
    }
    return BigDecimal.valueOf(to.getEpochSecond() - from.getEpochSecond())
        .add(BigDecimal.valueOf(to.getNano() - from.getNano(), 9));
  }

  /** Seconds from {@code from} to a Unix time in milliseconds, which may lie beyond any {@link Instant}. */
  private static BigDecimal untilMillis(Instant from, BigDecimal epochMillis) {
    BigDecimal s = epochMillis.movePointLeft(3).subtract(BigDecimal.valueOf(from.getEpochSecond()))
        .subtract(BigDecimal.valueOf(from.getNano(), 9));
    return s.signum() < 0 ? BigDecimal.ZERO : s;
  }

  static Optional<Instant> httpDate(String value) {
    try {
      return Optional.of(ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
    } catch (DateTimeException e) {
      return Optional.empty();
    }
  }

  /** ASCII digits only, at least one; shared with {@link QuotaFields}. */
  static boolean isDigits(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean isDecimal(String s) {
    int dot = s.indexOf('.');
    if (dot < 0) {
      return isDigits(s);
    }
    return isDigits(s.substring(0, dot)) && isDigits(s.substring(dot + 1));
  }


  @Override
  public String toString() {
    return wait == null ? "no server wait" + (problems.isEmpty() ? "" : " " + problems) : source + " -> " + wait;
  }
}
