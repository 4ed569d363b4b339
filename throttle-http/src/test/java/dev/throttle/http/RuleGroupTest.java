package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Groups of rules deciding one request together, on a manual clock. */
class RuleGroupTest {

  private final ManualClock clock = new ManualClock(0);
  private final List<Verdict> heard = Collections.synchronizedList(new ArrayList<>());

  private HttpThrottle throttle(Rule... group) {
    return HttpThrottle.builder().stores(StoreFactory.inMemory(1000, clock, clock)).clock(clock)
        .onVerdict(heard::add).ruleGroup(List.of(group)).build();
  }

  private static Rule.Builder rule(String name, String limit) {
    return Rule.builder(name).path("/api").limit(limit);
  }

  private static RequestView get(String peer, String... headerPairs) {
    Map<String, List<String>> headers = new HashMap<>();
    for (int i = 0; i < headerPairs.length; i += 2) {
      headers.computeIfAbsent(headerPairs[i], k -> new ArrayList<>()).add(headerPairs[i + 1]);
    }
    return RequestView.of("GET", "/api/items", headers, peer, null);
  }

  private static Verdict now(Admission a) {
    assertThat(a.verdict()).as("decided at once").isDone();
    return a.verdict().join();
  }

  private static List<String> names(String field) {
    return StructuredFields.parseList(field).stream().map(m -> String.valueOf(m.value())).toList();
  }

  @Test
  void dialectsOfOneQuotaReportTheTightestRuleOfAGroup() {
    for (RateLimitHeaders dialect : List.of(RateLimitHeaders.DRAFT_7, RateLimitHeaders.DRAFT_6)) {
      HttpThrottle t = HttpThrottle.builder().stores(StoreFactory.inMemory(1000, clock, clock)).clock(clock)
          .rateLimitHeaders(dialect).ruleGroup(List.of(
              rule("per-ip", "5/s").build(),
              rule("per-key", "2/s").key(KeyResolver.header("X-API-Key")).build()))
          .build();
      Verdict first = now(t.admit(get("192.0.2.1", "X-API-Key", "k")));
      // per-key has 1 token left of 2 (per-ip 4 of 5): its quota is the one reported, once.
      assertThat(first.headers()).extracting(Verdict.Header::name).doesNotHaveDuplicates();
      assertThat(first.header("RateLimit-Policy")).isEqualTo("2;w=1");
      if (dialect == RateLimitHeaders.DRAFT_7) {
        assertThat(first.header("RateLimit")).isEqualTo("limit=2, remaining=1, reset=1");
      } else {
        assertThat(first.header("RateLimit-Limit")).isEqualTo("2");
        assertThat(first.header("RateLimit-Remaining")).isEqualTo("1");
      }
      now(t.admit(get("192.0.2.1", "X-API-Key", "k")));
      Verdict refused = now(t.admit(get("192.0.2.1", "X-API-Key", "k")));
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.headers()).extracting(Verdict.Header::name).doesNotHaveDuplicates();
      assertThat(refused.header("RateLimit-Policy")).isEqualTo("2;w=1");
      assertThat(refused.header("X-RateLimit-Remaining")).isEqualTo("0");
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      clock.advance(Duration.ofSeconds(10));
    }
  }

  @Test
  void aRequestPassesOnlyIfEveryRuleOfItsGroupLetsItPass() {
    HttpThrottle t = throttle(
        rule("per-ip", "5/s").build(),
        rule("per-key", "2/s").key(KeyResolver.header("X-API-Key")).build());

    Verdict first = now(t.admit(get("192.0.2.1", "X-API-Key", "k")));
    assertThat(first.outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    assertThat(names(first.header("RateLimit-Policy"))).containsExactly("per-ip", "per-key");
    List<StructuredFields.Member> limits = StructuredFields.parseList(first.header("RateLimit"));
    assertThat(limits).extracting(StructuredFields.Member::value).containsExactly("per-ip", "per-key");
    assertThat(limits.get(0).integer("r")).isEqualTo(4);
    assertThat(limits.get(1).integer("r")).isEqualTo(1);
    // The legacy fields are the tighter rule's: the fewest tokens left.
    assertThat(first.header("X-RateLimit-Limit")).isEqualTo("2");
    assertThat(first.header("X-RateLimit-Remaining")).isEqualTo("1");

    assertThat(now(t.admit(get("192.0.2.1", "X-API-Key", "k"))).proceeds()).isTrue();
    Verdict third = now(t.admit(get("192.0.2.1", "X-API-Key", "k")));
    assertThat(third.outcome()).isEqualTo(Verdict.Outcome.REFUSED);
    assertThat(third.status()).isEqualTo(429);
    assertThat(third.ruleName()).isEqualTo("per-key");
    assertThat(names(third.header("RateLimit-Policy"))).containsExactly("per-ip", "per-key");
    assertThat(third.header("X-RateLimit-Limit")).isEqualTo("2");
    assertThat(third.header("Retry-After")).isEqualTo("1");
    assertThat(JsonReader.object(third.body()).get("violated-policies")).isEqualTo(List.of("per-key"));

    // Another key is not refused by per-key, and per-ip counted the refused request too (not all or nothing):
    // 5 per second for the address, 3 taken so far, so 2 remain after this one.
    Verdict other = now(t.admit(get("192.0.2.1", "X-API-Key", "other")));
    assertThat(other.proceeds()).isTrue();
    assertThat(StructuredFields.parseList(other.header("RateLimit")).get(0).integer("r")).isEqualTo(1);
  }

  @Test
  void theListenerHearsEachRuleThatDecided() {
    HttpThrottle t = throttle(rule("a", "1/s").build(), rule("b", "10/s").build());
    now(t.admit(get("192.0.2.1")));
    now(t.admit(get("192.0.2.1")));
    assertThat(heard).extracting(v -> v.ruleName() + " " + v.outcome())
        .containsExactly("a ALLOWED", "b ALLOWED", "a REFUSED");
  }

  @Test
  void aDelayedRuleWaitsItsTurnBeforeTheNextRuleDecides() {
    HttpThrottle t = throttle(
        rule("shape", "1/s").delay(Duration.ofSeconds(5)).build(),
        rule("cap", "2/min").build());
    assertThat(now(t.admit(get("192.0.2.1"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    Admission second = t.admit(get("192.0.2.1"));
    Admission third = t.admit(get("192.0.2.1"));
    assertThat(second.verdict()).isNotDone();
    assertThat(third.verdict()).isNotDone();
    assertThat(t.waiting()).isEqualTo(2);
    assertThat(heard).extracting(v -> v.ruleName()).containsExactly("shape", "cap"); // 'cap' not asked yet

    clock.advance(Duration.ofSeconds(1));
    Verdict v2 = second.verdict().join();
    assertThat(v2.outcome()).isEqualTo(Verdict.Outcome.DELAYED);
    assertThat(v2.waited()).isEqualTo(Duration.ofSeconds(1));
    assertThat(names(v2.header("RateLimit-Policy"))).containsExactly("shape", "cap");

    clock.advance(Duration.ofSeconds(1));
    Verdict v3 = third.verdict().join();
    // It waited its turn under 'shape', then 'cap' (2 a minute) refused it.
    assertThat(v3.outcome()).isEqualTo(Verdict.Outcome.REFUSED);
    assertThat(v3.ruleName()).isEqualTo("cap");
    assertThat(v3.waited()).isEqualTo(Duration.ofSeconds(2));
    assertThat(t.waiting()).isZero();
  }

  @Test
  void cancellingWhileARuleWaitsReturnsItsTokensAndStopsTheGroup() {
    HttpThrottle t = throttle(
        rule("shape", "1/s").delay(Duration.ofSeconds(5)).build(),
        rule("cap", "100/min").build());
    now(t.admit(get("192.0.2.1")));
    Admission waiting = t.admit(get("192.0.2.1"));
    Admission behind = t.admit(get("192.0.2.1"));
    assertThat(waiting.cancel(Admission.Cancel.CLIENT_GONE)).isTrue();
    assertThat(waiting.verdict().join().outcome()).isEqualTo(Verdict.Outcome.CLIENT_GONE);
    assertThat(waiting.cancel(Admission.Cancel.CLIENT_GONE)).isFalse();
    // The place was given up: the request behind moves up to the first turn.
    clock.advance(Duration.ofSeconds(1));
    assertThat(behind.verdict().join().outcome()).isEqualTo(Verdict.Outcome.DELAYED);
    assertThat(heard).filteredOn(v -> v.ruleName().equals("cap")).hasSize(2); // the first and 'behind', not 'waiting'
  }

  @Test
  void closingAnswersAGroupWaitingIn503() {
    HttpThrottle t = throttle(rule("shape", "1/s").delay(Duration.ofSeconds(5)).build(), rule("cap", "9/s").build());
    now(t.admit(get("192.0.2.1")));
    CompletableFuture<Verdict> waiting = t.admit(get("192.0.2.1")).verdict();
    t.close();
    Verdict v = waiting.join();
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.SHUT_DOWN);
    assertThat(v.status()).isEqualTo(503);
    assertThat(now(t.admit(get("192.0.2.9"))).outcome()).isEqualTo(Verdict.Outcome.SHUT_DOWN);
  }

  @Test
  void aMissingKeyAnswered400TakesNoTokensAndAnAllowedOneSkipsItsRule() {
    HttpThrottle strict = throttle(
        rule("per-ip", "2/s").build(),
        rule("per-key", "9/s").key(KeyResolver.header("X-API-Key")).onMissingKey(Rule.MissingKey.REJECT).build());
    Verdict bad = now(strict.admit(get("192.0.2.1")));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.ruleName()).isEqualTo("per-key");
    Verdict good = now(strict.admit(get("192.0.2.1", "X-API-Key", "k")));
    assertThat(StructuredFields.parseList(good.header("RateLimit")).get(0).integer("r"))
        .as("the request answered 400 took nothing from per-ip").isEqualTo(1);

    HttpThrottle lenient = throttle(
        rule("per-ip", "2/s").build(),
        rule("per-key", "9/s").key(KeyResolver.header("X-API-Key")).onMissingKey(Rule.MissingKey.ALLOW).build());
    heard.clear();
    Verdict anonymous = now(lenient.admit(get("192.0.2.1")));
    assertThat(anonymous.outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    assertThat(names(anonymous.header("RateLimit-Policy"))).containsExactly("per-ip");
    assertThat(heard).extracting(v -> v.ruleName() + " " + v.outcome())
        .containsExactlyInAnyOrder("per-ip ALLOWED", "per-key UNTHROTTLED");
  }

  @Test
  void aGroupCoversOneRouteAndTakesItsPlaceInTheOrder() {
    assertThatThrownBy(() -> HttpThrottle.builder()
        .ruleGroup(List.of(rule("a", "1/s").build(), Rule.builder("b").path("/other").limit("1/s").build())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid rule 'b'")
        .hasMessageContaining("path /other");
    assertThatThrownBy(() -> HttpThrottle.builder().ruleGroup(List.of()))
        .hasMessageContaining("at least one rule");

    HttpThrottle t = HttpThrottle.builder().stores(StoreFactory.inMemory(10, clock, clock)).clock(clock)
        .rule(Rule.builder("admin").path("/api/admin").limit("1/s").build())
        .ruleGroup(List.of(rule("a", "5/s").build(), rule("b", "5/s").build()))
        .build();
    assertThat(t.rules()).extracting(Rule::name).containsExactly("admin", "a", "b");
    Verdict admin = now(t.admit(RequestView.of("GET", "/api/admin/x", Map.of(), "192.0.2.1", null)));
    assertThat(names(admin.header("RateLimit-Policy"))).containsExactly("admin");
    Verdict api = now(t.admit(get("192.0.2.1")));
    assertThat(names(api.header("RateLimit-Policy"))).containsExactly("a", "b");
  }
}
