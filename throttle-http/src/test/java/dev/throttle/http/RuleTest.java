package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RuleTest {

  private static final TrustedProxies NONE = TrustedProxies.none();

  @Test
  void textFormRoundTrips() {
    for (String text : new String[] {
        "api: limit=100/s burst 20; path=/api; key=header:X-API-Key|ip; mode=delay; max-wait=2s",
        "uploads: limit=10/min; path=/upload; methods=POST,PUT; key=ip; cost=2; on-missing-key=reject",
        "all: limit=10/s and 1000/h; key=all; dry-run=true",
        "slow: limit=5/s; key=principal; mode=delay; max-wait=250ms; on-missing-key=allow",
        "renamed: limit=5/s; key=ip; id=api"}) {
      Rule rule = Rule.parse(text, NONE);
      assertThat(rule).hasToString(text);
      assertThat(Rule.parse(rule.toString(), NONE)).hasToString(text);
    }
    Rule r = Rule.parse("  api :  limit = 5/s burst 5 ; mode = DELAY ; max-wait = 2s ", NONE);
    assertThat(r.name()).isEqualTo("api");
    assertThat(r.limit()).isEqualTo(Limit.parse("5/s burst 5"));
    assertThat(r.mode()).isEqualTo(Rule.Mode.DELAY);
    assertThat(r.maxWait()).isEqualTo(Duration.ofSeconds(2));
    assertThat(r.onMissingKey()).isEqualTo(Rule.MissingKey.SHARED);
  }

  @Test
  void everyConfigurationErrorNamesTheRule() {
    assertError("api: limit=10/fortnight", "Invalid rule 'api': Invalid limit '10/fortnight': unknown unit 'fortnight'");
    assertError("api: limt=10/s", "Invalid rule 'api': unknown setting 'limt' (settings: limit, path,");
    assertError("api: path=/api", "Invalid rule 'api': no limit (for example limit=100/s)");
    assertError("api: limit=10/s burst 5; cost=6",
        "Invalid rule 'api': the cost 6 exceeds the burst of the limit '10/s burst 5' (at most 5 tokens)");
    assertError("api: limit=5/s; cost=0", "Invalid rule 'api': the cost must be at least 1, got 0");
    assertError("api: limit=5/s; cost=two", "Invalid rule 'api': cost must be a whole number, got 'two'");
    assertError("api: limit=5/s; mode=delay", "Invalid rule 'api': mode=delay needs max-wait");
    assertError("api: limit=5/s; max-wait=2s", "Invalid rule 'api': max-wait applies to mode=delay only");
    assertError("api: limit=5/s; mode=queue", "Invalid rule 'api': mode must be reject or delay, got 'queue'");
    assertError("api: limit=5/s; mode=delay; max-wait=2 fortnights",
        "Invalid rule 'api': max-wait: '2 fortnights' is not a duration: expected a number and a unit (ms, s, min, h, "
            + "day), such as 250ms, 1.5s or 2min");
    assertError("api: limit=5/s; path=api", "Invalid rule 'api': the path must start with '/', got 'api'");
    assertError("api: limit=5/s; methods=GET,,POST", "Invalid rule 'api': '' is not an HTTP method");
    assertError("api: limit=5/s; key=cookie", "Invalid rule 'api': Invalid key 'cookie': unknown 'cookie'");
    assertError("api: limit=5/s; on-missing-key=drop",
        "Invalid rule 'api': on-missing-key must be one of shared, reject, allow, got 'drop'");
    assertError("api: limit=5/s; dry-run=yes", "Invalid rule 'api': dry-run must be true or false, got 'yes'");
    assertError("api: limit=5/s; limit=6/s", "Invalid rule 'api': 'limit' is set twice");
    assertError("api: limit=5/s; 10/s", "Invalid rule 'api': expected <setting>=<value>, found '10/s'");
    assertError("a pi: limit=5/s", "Invalid rule in 'a pi: limit=5/s': Invalid rule name 'a pi'");
    assertError("limit=5/s", "Invalid rule 'limit=5/s': expected '<name>: <setting>=<value>; ...'");
  }

  @Test
  void theIdIsTheNameUnlessSetAndIsCheckedLikeAName() {
    assertThat(Rule.parse("api: limit=5/s", NONE).id()).isEqualTo("api");
    assertThat(Rule.parse("api2: limit=5/s; id=api", NONE).id()).isEqualTo("api");
    assertError("api: limit=5/s; id=a:b", "Invalid rule 'api': the id must be letters, digits, '.', '_' and '-', at most"
        + " 64 characters, got 'a:b'");
  }

  @Test
  void configurationFilesNameTheLineToo() {
    String text = "# rules\napi: limit=5/s\n\nuploads: limit=5/s; cost=9\n";
    assertThatThrownBy(() -> Rule.parseAll(text, NONE))
        .hasMessageStartingWith("line 4: Invalid rule 'uploads': the cost 9 exceeds the burst");
    assertThatThrownBy(() -> Rule.parseAll("api: limit=5/s\napi: limit=6/s", NONE))
        .hasMessage("line 2: Invalid rule 'api': the name is already used by the rule on line 1");
    assertThatThrownBy(() -> Rule.parseAll("# nothing\n", NONE)).hasMessageContaining("no rule in the configuration");
    assertThat(Rule.parseAll("a: limit=1/s\r\nb: limit=2/s", NONE)).extracting(Rule::name).containsExactly("a", "b");
  }

  @Test
  void builderErrorsNameTheRuleToo() {
    assertThatThrownBy(() -> Rule.builder("api").limit("nonsense")).hasMessageStartingWith("Invalid rule 'api': "
        + "Invalid limit 'nonsense'");
    assertThatThrownBy(() -> Rule.builder("api").delay(Duration.ofSeconds(-1)))
        .hasMessage("Invalid rule 'api': the maximum wait cannot be negative, got PT-1S");
    KeyedRateLimiter<String> other = KeyedRateLimiter.of(Limit.parse("6/s"));
    assertThatThrownBy(() -> Rule.builder("api").limit("5/s").store(other).build())
        .hasMessage("Invalid rule 'api': its store enforces '6/s', not the rule's limit '5/s'");
    assertThat(Rule.builder("api").store(other).build().limit()).isEqualTo(Limit.parse("6/s"));
    assertThatThrownBy(() -> Rule.builder("x".repeat(65))).hasMessageContaining("at most 64 characters");
  }

  @Test
  void routesMatchWholeSegmentsAndMethods() {
    Rule r = Rule.parse("api: limit=1/s; path=/api/; methods=get,Post", NONE);
    assertThat(r.pathPrefix()).isEqualTo("/api");
    assertThat(r.matches("GET", "/api")).isTrue();
    assertThat(r.matches("GET", "/api/")).isTrue();
    assertThat(r.matches("post", "/api/items/7")).isTrue();
    assertThat(r.matches("GET", "/apix")).isFalse();
    assertThat(r.matches("GET", "/ap")).isFalse();
    assertThat(r.matches("DELETE", "/api/items")).isFalse();
    Rule root = Rule.parse("all: limit=1/s", NONE);
    assertThat(root.matches("PATCH", "/anything")).isTrue();
  }

  @Test
  void costFunctionAnswersOutsideTheLimitAreBugsNamedAsSuch() {
    Rule r = Rule.builder("batch").limit("10/s").cost(req -> Long.parseLong(req.header("X-Batch"))).build();
    RequestView eleven = RequestView.of("POST", "/", java.util.Map.of("X-Batch", java.util.List.of("11")), "192.0.2.1",
        null);
    assertThatThrownBy(() -> r.cost(eleven)).isInstanceOf(IllegalStateException.class)
        .hasMessage("the cost function of rule 'batch' answered 11; a cost must be from 1 to the burst of '10/s' (10)");
  }

  private static void assertError(String text, String message) {
    assertThatThrownBy(() -> Rule.parse(text, NONE)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }
}
