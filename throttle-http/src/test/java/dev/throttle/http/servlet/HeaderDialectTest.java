package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.RateLimitHeaders;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each header dialect on the wire, read by parsers we did not write ({@link NodeParsers}): the RFC 9651 parser
 * {@code structured-headers} for the structured fields and express-rate-limit's {@code ratelimit-header-parser} for
 * what a client makes of the quota. The limit is {@code 5/min burst 3} on a manual clock, so each of the four
 * responses is known: 3 tokens, then 2 left (12 s to full), 1 (24 s), 0 (36 s), then a 429 whose wait is 12 s.
 */
class HeaderDialectTest {

  private static final long[] REMAINING = {2, 1, 0, 0};
  private static final long[] T = {12, 24, 36, 12}; // to full on a pass, the wait on the refusal
  private static final long[] RESET = {12, 24, 36, 36}; // X-RateLimit-Reset: to full
  /** The draft-6 and -7 policy: {@code 5;w=60}, an Integer with a parameter. */
  private static final Map<String, Object> QUOTA_POLICY =
      Map.of("value", Map.of("number", 5L), "params", Map.of("w", 60L));

  private final ManualClock clock = new ManualClock();
  private TestServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private List<Map<String, Object>> fourRequests(RateLimitHeaders dialect) throws Exception {
    HttpThrottle throttle = HttpThrottle.builder()
        .rule(Rule.builder("api").limit("5/min burst 3").build())
        .rateLimitHeaders(dialect)
        .stores(StoreFactory.inMemory(100, clock, clock))
        .clock(clock)
        .build();
    server = TestServer.start(new ThrottleFilter(throttle));
    List<Map<String, Object>> responses = NodeParsers.get("http://127.0.0.1:" + server.port() + "/items", 4);
    assertThat(responses).extracting(r -> num(r.get("status"))).containsExactly(200L, 200L, 200L, 429L);
    assertThat(fields(responses.get(3))).containsKey("retry-after");
    assertThat(raw(responses.get(3), "retry-after")).isEqualTo("12");
    return responses;
  }

  @Test
  void draft10ListsParseAsRfc9651AndTheExpressParserCannotReadThem() throws Exception {
    List<Map<String, Object>> responses = fourRequests(RateLimitHeaders.DRAFT_10);
    for (int i = 0; i < 4; i++) {
      Map<String, Object> r = responses.get(i);
      assertThat(list(r, "ratelimit-policy")).containsExactly(
          Map.of("value", Map.of("string", "api"), "params", Map.of("q", 5L, "w", 60L)));
      assertThat(list(r, "ratelimit")).containsExactly(
          Map.of("value", Map.of("string", "api"), "params", Map.of("r", REMAINING[i], "t", T[i])));
      assertLegacy(r, i);
      // Why the dialect is a setting: this parser finds RateLimit, cannot read the list, and reads nothing else.
      assertThat(parsed(r)).containsEntry("limit", null).containsEntry("remaining", null);
    }
  }

  @Test
  void draft7CombinedFieldIsAnRfc9651DictionaryThatTheExpressParserReads() throws Exception {
    List<Map<String, Object>> responses = fourRequests(RateLimitHeaders.DRAFT_7);
    for (int i = 0; i < 4; i++) {
      Map<String, Object> r = responses.get(i);
      assertThat(list(r, "ratelimit-policy")).containsExactly(QUOTA_POLICY);
      assertThat(normalise(ok(r, "ratelimit", "dictionary"))).isEqualTo(Map.of(
          "limit", Map.of("value", Map.of("number", 3L), "params", Map.of()),
          "remaining", Map.of("value", Map.of("number", REMAINING[i]), "params", Map.of()),
          "reset", Map.of("value", Map.of("number", T[i]), "params", Map.of())));
      assertThat(raw(r, "ratelimit")).isEqualTo("limit=3, remaining=" + REMAINING[i] + ", reset=" + T[i]);
      assertLegacy(r, i);
      assertQuota(r, REMAINING[i], T[i]);
    }
  }

  @Test
  void draft6SeparateFieldsAreRfc9651ItemsThatTheExpressParserReads() throws Exception {
    List<Map<String, Object>> responses = fourRequests(RateLimitHeaders.DRAFT_6);
    for (int i = 0; i < 4; i++) {
      Map<String, Object> r = responses.get(i);
      assertThat(fields(r)).doesNotContainKey("ratelimit");
      assertThat(list(r, "ratelimit-policy")).containsExactly(QUOTA_POLICY);
      assertThat(normalise(ok(r, "ratelimit-limit", "item"))).isEqualTo(item(3));
      assertThat(normalise(ok(r, "ratelimit-remaining", "item"))).isEqualTo(item(REMAINING[i]));
      assertThat(normalise(ok(r, "ratelimit-reset", "item"))).isEqualTo(item(T[i]));
      assertLegacy(r, i);
      assertQuota(r, REMAINING[i], T[i]);
    }
  }

  @Test
  void legacyAloneIsWhatTheExpressParserReads() throws Exception {
    List<Map<String, Object>> responses = fourRequests(RateLimitHeaders.LEGACY);
    for (int i = 0; i < 4; i++) {
      Map<String, Object> r = responses.get(i);
      assertThat(fields(r).keySet()).allSatisfy(name -> assertThat(name).doesNotStartWith("ratelimit"));
      assertLegacy(r, i);
      assertQuota(r, REMAINING[i], RESET[i]);
    }
  }

  @Test
  void noneSendsNoRateLimitFieldButTheRefusalKeepsRetryAfter() throws Exception {
    List<Map<String, Object>> responses = fourRequests(RateLimitHeaders.NONE);
    for (Map<String, Object> r : responses) {
      assertThat(fields(r).keySet()).allSatisfy(name -> assertThat(name).isEqualTo("retry-after"));
      assertThat(r.get("parsed")).isNull();
    }
  }

  // ---- what the parsers said ----

  private static void assertLegacy(Map<String, Object> r, int i) {
    assertThat(raw(r, "x-ratelimit-limit")).isEqualTo("3");
    assertThat(raw(r, "x-ratelimit-remaining")).isEqualTo(Long.toString(REMAINING[i]));
    assertThat(raw(r, "x-ratelimit-reset")).isEqualTo(Long.toString(RESET[i]));
  }

  /** ratelimit-header-parser's reading: limit 3, used 3 - remaining, and the reset (a date it computes) in seconds. */
  private static void assertQuota(Map<String, Object> r, long remaining, long resetSeconds) {
    Map<String, Object> q = parsed(r);
    assertThat(num(q.get("limit"))).isEqualTo(3);
    assertThat(num(q.get("remaining"))).isEqualTo(remaining);
    assertThat(num(q.get("used"))).isEqualTo(3 - remaining);
    // It turns seconds into a Date from its own clock; read back a moment later, a second may round away.
    assertThat(num(q.get("resetSeconds"))).isBetween(resetSeconds - 1, resetSeconds);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> fields(Map<String, Object> r) {
    return (Map<String, Object>) r.get("fields");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parsed(Map<String, Object> r) {
    assertThat(r.get("parsed")).as("ratelimit-header-parser found a quota").isNotNull();
    return (Map<String, Object>) r.get("parsed");
  }

  @SuppressWarnings("unchecked")
  private static String raw(Map<String, Object> r, String field) {
    Map<String, Object> f = (Map<String, Object>) fields(r).get(field);
    assertThat(f).as("field %s in %s", field, fields(r).keySet()).isNotNull();
    return (String) f.get("raw");
  }

  /** The structured-headers result of parsing {@code field} as {@code as} (list, dictionary, item), which must parse. */
  @SuppressWarnings("unchecked")
  private static Object ok(Map<String, Object> r, String field, String as) {
    raw(r, field);
    Map<String, Object> attempt = (Map<String, Object>) ((Map<String, Object>) fields(r).get(field)).get(as);
    assertThat(attempt).as("%s as an RFC 9651 %s: %s", field, as, attempt).containsKey("ok");
    return attempt.get("ok");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Map<String, Object> r, String field) {
    return (List<Object>) normalise(ok(r, field, "list"));
  }

  private static Map<String, Object> item(long n) {
    return Map.of("value", Map.of("number", n), "params", Map.of());
  }

  /** JSON numbers (BigDecimal) as longs, so that results compare with plain maps. */
  @SuppressWarnings("unchecked")
  private static Object normalise(Object o) {
    if (o instanceof BigDecimal d) {
      return d.longValueExact();
    }
    if (o instanceof Map<?, ?> m) {
      Map<String, Object> out = new java.util.LinkedHashMap<>();
      ((Map<String, Object>) m).forEach((k, v) -> out.put(k, normalise(v)));
      return out;
    }
    if (o instanceof List<?> l) {
      return l.stream().map(HeaderDialectTest::normalise).toList();
    }
    return o;
  }

  private static long num(Object o) {
    assertThat(o).isInstanceOf(BigDecimal.class);
    return ((BigDecimal) o).longValueExact();
  }
}
