package dev.throttle.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which rate-limit header fields responses carry: the dialect of the IETF draft a client understands (as
 * express-rate-limit's {@code standardHeaders}), only the legacy {@code X-RateLimit-*} fields, or none. In every
 * dialect a refusal carries {@code Retry-After}; {@code X-RateLimit-*} go beside the draft fields unless
 * {@code legacy-headers} is false.
 *
 * <table>
 *   <caption>Dialects, for {@code 5/s burst 10} with 7 tokens left and 2 s until full</caption>
 *   <tr><th>dialect</th><th>fields</th></tr>
 *   <tr><td>{@code draft-10} (default)</td><td>{@code RateLimit-Policy: "api";q=5;w=1} and
 *       {@code RateLimit: "api";r=7;t=2} (RFC 9651 Lists, one item per policy: draft-ietf-httpapi-ratelimit-headers-08
 *       to -10)</td></tr>
 *   <tr><td>{@code draft-7}</td><td>{@code RateLimit-Policy: 5;w=1} and {@code RateLimit: limit=10, remaining=7,
 *       reset=2} (one combined Dictionary: draft-07)</td></tr>
 *   <tr><td>{@code draft-6}</td><td>{@code RateLimit-Policy: 5;w=1}, {@code RateLimit-Limit: 10},
 *       {@code RateLimit-Remaining: 7}, {@code RateLimit-Reset: 2} (separate fields: draft-06)</td></tr>
 *   <tr><td>{@code legacy}</td><td>{@code X-RateLimit-Limit: 10}, {@code X-RateLimit-Remaining: 7},
 *       {@code X-RateLimit-Reset: 2} only</td></tr>
 *   <tr><td>{@code none}</td><td>no rate-limit field</td></tr>
 * </table>
 *
 * In the draft-6 and draft-7 forms {@code limit} is the burst (as {@code X-RateLimit-Limit}, so that
 * {@code limit - remaining} is what was used), {@code reset} is the draft-10 {@code t}, and a group of rules reports
 * the rule with the fewest tokens left (the refusing one on a 429), as these forms hold one quota.
 */
public enum RateLimitHeaders {
  DRAFT_10("draft-10"),
  DRAFT_7("draft-7"),
  DRAFT_6("draft-6"),
  LEGACY("legacy"),
  NONE("none");

  private final String text;

  RateLimitHeaders(String text) {
    this.text = text;
  }

  /**
   * The dialect named {@code text} ({@code draft-10}, {@code draft-7}, {@code draft-6}, {@code legacy}, {@code none};
   * any case).
   *
   * @throws IllegalArgumentException naming the value and the dialects
   */
  public static RateLimitHeaders parse(String text) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    List<String> names = new ArrayList<>();
    for (RateLimitHeaders h : values()) {
      if (h.text.equals(t)) {
        return h;
      }
      names.add(h.text);
    }
    throw new IllegalArgumentException("rate-limit-headers must be one of " + String.join(", ", names) + ", got '"
        + text + "'");
  }

  /** Whether this dialect sends the IETF draft's fields. */
  boolean isDraft() {
    return this == DRAFT_10 || this == DRAFT_7 || this == DRAFT_6;
  }

  /** The name, as {@link #parse} reads it. */
  @Override
  public String toString() {
    return text;
  }
}
