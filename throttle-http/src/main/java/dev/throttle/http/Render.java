package dev.throttle.http;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns decisions into verdicts: status, header fields and problem bodies, the same for every adapter.
 *
 * <h2>How a token bucket maps onto the IETF fields</h2>
 *
 * The draft's model is a quota {@code q} per window {@code w}; a token bucket has a rate (amount per period) and a
 * burst. For each bucket of a rule's limit:
 *
 * <ul>
 *   <li>{@code RateLimit-Policy: "name";q=<amount>;w=<period>}: the rate as written ({@code 100/s} is
 *       {@code q=100;w=1}, {@code 6000/min} is {@code q=6000;w=60}). A period that is not whole seconds is widened to
 *       the next whole second and the amount scaled down to it ({@code 1/1500ms} is {@code q=1;w=2}), so the policy
 *       never promises more than the limit. The burst is the legacy {@code X-RateLimit-Limit}.
 *   <li>{@code RateLimit: "name";r=<remaining>;t=<seconds>}: {@code r} is the whole tokens left after this request
 *       (with several buckets, the fewest). On a request passed on, {@code t} is the time until the bucket is full
 *       again; on a refusal, the time until the refused request would pass, which is also {@code Retry-After} (the
 *       draft asks that {@code Retry-After} not point earlier than {@code t}). Tokens trickle back all along, so
 *       more than {@code r} may be available before {@code t}.
 * </ul>
 *
 * Seconds are rounded up, never down: a client that waits what the fields say is not refused for having come a
 * fraction of a second early. A positive wait is never 0. Numbers are capped at the largest structured-field integer.
 * Those are the draft-10 fields; {@link RateLimitHeaders} says how the other dialects carry the same numbers.
 */
final class Render {

  static final String PROBLEM_JSON = "application/problem+json";
  static final String QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded";
  static final String QUOTA_EXCEEDED_TITLE = "Request cannot be satisfied as assigned quota has been exceeded";

  /** The largest Integer an RFC 9651 structured field may carry. */
  static final long SF_MAX = 999_999_999_999_999L;

  private static final long SECOND = 1_000_000_000L;

  private Render() {}

  /** What is rendered for one rule, computed once. */
  static final class Policy {
    final String ruleName;
    final List<String> names; // one policy per bucket
    private final List<String> quotedNames; // the names as structured-field strings
    final RateLimitHeaders dialect;
    final boolean legacy; // X-RateLimit-* too
    final String policyField;
    final String limitText;
    final long burst;

    /** {@code dialect} and {@code legacy}: the fields to send ({@code X-RateLimit-*} beside a draft's if legacy). */
    Policy(Rule rule, RateLimitHeaders dialect, boolean legacy) {
      this.ruleName = rule.name();
      this.dialect = dialect;
      this.legacy = dialect == RateLimitHeaders.LEGACY || (legacy && dialect.isDraft());
      Limit limit = rule.limit();
      List<Bandwidth> buckets = limit.bandwidths();
      List<String> n = new ArrayList<>();
      List<String> quoted = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      StringBuilder quotas = new StringBuilder(); // draft-6 and -7: "q;w=w" items, no names
      for (int i = 0; i < buckets.size(); i++) {
        String name = buckets.size() == 1 ? rule.name() : rule.name() + "-" + (i + 1);
        n.add(name);
        quoted.add(sfString(name));
        Bandwidth b = buckets.get(i);
        long w = ceilSeconds(b.periodNanos());
        long q = BigInteger.valueOf(b.amount()).multiply(BigInteger.valueOf(w)).multiply(BigInteger.valueOf(SECOND))
            .divide(BigInteger.valueOf(b.periodNanos())).min(BigInteger.valueOf(SF_MAX)).longValue();
        if (field.length() > 0) {
          field.append(", ");
          quotas.append(", ");
        }
        field.append(quoted.get(i)).append(";q=").append(q).append(";w=").append(Math.min(w, SF_MAX));
        quotas.append(q).append(";w=").append(Math.min(w, SF_MAX));
      }
      this.names = List.copyOf(n);
      this.quotedNames = List.copyOf(quoted);
      this.policyField = dialect == RateLimitHeaders.DRAFT_10 ? field.toString() : quotas.toString();
      this.limitText = limit.toString();
      this.burst = limit.burst();
    }

    /** The {@code RateLimit} field: every policy of the rule with the same remaining and seconds. */
    String rateLimitField(long remaining, long seconds) {
      StringBuilder sb = new StringBuilder();
      for (String name : quotedNames) {
        if (sb.length() > 0) {
          sb.append(", ");
        }
        sb.append(name).append(";r=").append(Math.min(remaining, SF_MAX)).append(";t=")
            .append(Math.min(seconds, SF_MAX));
      }
      return sb.toString();
    }
  }

  // ---- verdicts ----

  static Verdict unthrottled(String ruleName) {
    return new Verdict(Verdict.Outcome.UNTHROTTLED, 0, List.of(), null, "", ruleName, null, 0);
  }

  /** A request passed on: at once, after a wait, or (dry run) although refused. */
  static Verdict pass(Verdict.Outcome outcome, Policy p, String key, long remaining, long resetNanos,
      long waitedNanos) {
    long reset = ceilSeconds(resetNanos);
    List<Verdict.Header> headers = rateLimitHeaders(p, remaining, reset, reset);
    return new Verdict(outcome, 0, headers, null, "", p.ruleName, key, waitedNanos, remaining);
  }

  /** 429: over the limit, with the wait until the same request would pass. */
  static Verdict refused(Policy p, String key, Decision d) {
    long retry = retryAfter(d.waitNanos());
    List<Verdict.Header> headers = rateLimitHeaders(p, d.remaining(), retry, ceilSeconds(d.resetNanos()));
    headers.add(new Verdict.Header("Retry-After", Long.toString(retry)));
    Json body = new Json()
        .field("type", QUOTA_EXCEEDED)
        .field("title", QUOTA_EXCEEDED_TITLE)
        .field("status", 429)
        .field("detail", "Too many requests under the rate limit '" + p.ruleName + "' (" + p.limitText
            + "); retry in " + retry + " s.")
        .field("violated-policies", p.names)
        .field("retry-after-seconds", retry);
    return new Verdict(Verdict.Outcome.REFUSED, 429, headers, PROBLEM_JSON, body.end(), p.ruleName, key, 0,
        d.remaining());
  }

  /**
   * The verdict of a group of rules, from the verdicts of the rules that let the request pass ({@code passed}, at
   * least one unless {@code last} is given) and of the rule that did not ({@code last}; null when all passed). A
   * 429 or a pass carries, in {@link RateLimitHeaders#DRAFT_10}, every deciding rule's {@code RateLimit-Policy} and
   * {@code RateLimit} items, in order (one field each, as a list); the other fields (the legacy ones, and every field
   * of the dialects that hold one quota) are those of the refusing rule, or on a pass of the rule with the fewest
   * tokens left. Other answers (400, 500, 503) are {@code last} itself.
   */
  static Verdict combine(List<Verdict> passed, Verdict last, RateLimitHeaders dialect) {
    if (last != null && last.outcome() != Verdict.Outcome.REFUSED) {
      return last;
    }
    List<Verdict> all = new ArrayList<>(passed);
    if (last != null) {
      all.add(last);
    }
    StringBuilder policies = new StringBuilder();
    StringBuilder limits = new StringBuilder();
    Verdict legacyFrom = last;
    Verdict.Outcome outcome = Verdict.Outcome.UNTHROTTLED;
    long waited = 0;
    boolean lists = dialect == RateLimitHeaders.DRAFT_10;
    for (Verdict v : all) {
      waited += v.waitedNanos();
      if (lists) {
        append(policies, v.header("RateLimit-Policy"));
        append(limits, v.header("RateLimit"));
      }
      if (last == null && v.remaining() >= 0 && (legacyFrom == null || v.remaining() < legacyFrom.remaining())) {
        legacyFrom = v;
      }
      if (rank(v.outcome()) > rank(outcome)) {
        outcome = v.outcome();
      }
    }
    List<Verdict.Header> headers = new ArrayList<>(7);
    if (policies.length() > 0) {
      headers.add(new Verdict.Header("RateLimit-Policy", policies.toString()));
      headers.add(new Verdict.Header("RateLimit", limits.toString()));
    }
    if (legacyFrom != null) {
      for (Verdict.Header h : legacyFrom.headers()) {
        boolean listed = lists && (h.name().equals("RateLimit-Policy") || h.name().equals("RateLimit"));
        if (!listed && !h.name().equals("Retry-After")) {
          headers.add(h);
        }
      }
    }
    if (last != null) {
      headers.add(new Verdict.Header("Retry-After", last.header("Retry-After")));
      return new Verdict(Verdict.Outcome.REFUSED, 429, headers, last.contentType(), last.body(), last.ruleName(),
          last.key(), waited, last.remaining());
    }
    Verdict first = all.get(0);
    return new Verdict(outcome, 0, headers, null, "", first.ruleName(), first.key(), waited,
        legacyFrom == null ? -1 : legacyFrom.remaining());
  }

  private static void append(StringBuilder list, String items) {
    if (items != null) {
      if (list.length() > 0) {
        list.append(", ");
      }
      list.append(items);
    }
  }

  /** Which outcome of the rules of a group that all passed names the request's: the most eventful. */
  private static int rank(Verdict.Outcome o) {
    return switch (o) {
      case DELAYED -> 3;
      case DRY_RUN_REFUSED -> 2;
      case ALLOWED -> 1;
      default -> 0;
    };
  }

  /** 503 with Retry-After: shutting down, given up waiting, abandoned, or the store failed. */
  static Verdict unavailable(Verdict.Outcome outcome, String ruleName, String key, long retryNanos, long waitedNanos) {
    long retry = retryAfter(retryNanos);
    String detail = switch (outcome) {
      case SHUT_DOWN -> "The server is shutting down; retry in " + retry + " s.";
      case TIMED_OUT -> "The request waited longer than the server allows; retry in " + retry + " s.";
      case CLIENT_GONE -> "The request could not wait for its turn; retry in " + retry + " s.";
      default -> "The rate limiter cannot decide now; retry in " + retry + " s.";
    };
    Json body = new Json()
        .field("type", "about:blank")
        .field("title", "Service Unavailable")
        .field("status", 503)
        .field("detail", detail)
        .field("retry-after-seconds", retry);
    List<Verdict.Header> headers = List.of(new Verdict.Header("Retry-After", Long.toString(retry)));
    return new Verdict(outcome, 503, headers, PROBLEM_JSON, body.end(), ruleName, key, waitedNanos);
  }

  /** 400: the rule's key is missing, or cannot be used. {@code detail} must hold no request data. */
  static Verdict badRequest(Verdict.Outcome outcome, String ruleName, String detail) {
    Json body = new Json()
        .field("type", "about:blank")
        .field("title", "Bad Request")
        .field("status", 400)
        .field("detail", detail);
    return new Verdict(outcome, 400, List.of(), PROBLEM_JSON, body.end(), ruleName, null, 0);
  }

  /** 500: a configured function failed; the details are logged, not sent. */
  static Verdict failed(String ruleName) {
    Json body = new Json()
        .field("type", "about:blank")
        .field("title", "Internal Server Error")
        .field("status", 500)
        .field("detail", "The request could not be checked against its rate limit.");
    return new Verdict(Verdict.Outcome.FAILED, 500, List.of(), PROBLEM_JSON, body.end(), ruleName, null, 0);
  }

  /**
   * The rate-limit fields of {@code p}'s dialect: {@code remaining} tokens, {@code t} seconds (to full on a pass, the
   * wait on a refusal) and {@code resetSeconds} to full (legacy {@code X-RateLimit-Reset}).
   */
  private static List<Verdict.Header> rateLimitHeaders(Policy p, long remaining, long t, long resetSeconds) {
    List<Verdict.Header> headers = new ArrayList<>(8);
    long r = Math.min(remaining, SF_MAX);
    long limit = Math.min(p.burst, SF_MAX);
    switch (p.dialect) {
      case DRAFT_10 -> {
        headers.add(new Verdict.Header("RateLimit-Policy", p.policyField));
        headers.add(new Verdict.Header("RateLimit", p.rateLimitField(remaining, t)));
      }
      case DRAFT_7 -> {
        headers.add(new Verdict.Header("RateLimit-Policy", p.policyField));
        headers.add(new Verdict.Header("RateLimit", "limit=" + limit + ", remaining=" + r + ", reset=" + t));
      }
      case DRAFT_6 -> {
        headers.add(new Verdict.Header("RateLimit-Policy", p.policyField));
        headers.add(new Verdict.Header("RateLimit-Limit", Long.toString(limit)));
        headers.add(new Verdict.Header("RateLimit-Remaining", Long.toString(r)));
        headers.add(new Verdict.Header("RateLimit-Reset", Long.toString(t)));
      }
      default -> { } // legacy, none
    }
    if (p.legacy) {
      headers.add(new Verdict.Header("X-RateLimit-Limit", Long.toString(p.burst)));
      headers.add(new Verdict.Header("X-RateLimit-Remaining", Long.toString(remaining)));
      headers.add(new Verdict.Header("X-RateLimit-Reset", Long.toString(resetSeconds)));
    }
    return headers;
  }

  // ---- numbers and text ----

  /** Whole seconds, rounded up; 0 only for 0. */
  static long ceilSeconds(long nanos) {
    if (nanos <= 0) {
      return 0;
    }
    return Math.min(SF_MAX, nanos / SECOND + (nanos % SECOND == 0 ? 0 : 1));
  }

  /** Retry-After: whole seconds rounded up, at least 1 (a positive wait is never 0, and 0 would invite a storm). */
  static long retryAfter(long nanos) {
    return Math.max(1, ceilSeconds(nanos));
  }

  /** An RFC 9651 String: printable ASCII in quotes, with {@code "} and {@code \} escaped. */
  static String sfString(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new IllegalArgumentException("not printable ASCII: a structured-field string cannot hold '" + c + "'");
      }
      if (c == '"' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.append('"').toString();
  }

  /**
   * A JSON object written member by member. Strings are escaped so that the output is ASCII and safe wherever it
   * lands: quotes, backslashes and control characters, and also {@code < > &} and everything above ASCII as
   * {@code \}{@code uXXXX}, so that a body shown in an HTML page cannot open a tag.
   */
  static final class Json {
    private final StringBuilder sb = new StringBuilder("{");

    Json field(String name, String value) {
      member(name);
      string(value);
      return this;
    }

    Json field(String name, long value) {
      member(name);
      sb.append(value);
      return this;
    }

    Json field(String name, List<String> values) {
      member(name);
      sb.append('[');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        string(values.get(i));
      }
      sb.append(']');
      return this;
    }

    String end() {
      return sb.append('}').toString();
    }

    private void member(String name) {
      if (sb.length() > 1) {
        sb.append(',');
      }
      string(name);
      sb.append(':');
    }

    private void string(String s) {
      sb.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          default -> {
            if (c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&') {
              String hex = Integer.toHexString(c);
              sb.append("\\u").append("0000", hex.length(), 4).append(hex);
            } else {
              sb.append(c);
            }
          }
        }
      }
      sb.append('"');
    }
  }
}
