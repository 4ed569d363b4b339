package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RenderTest {

  private static String policy(String limit) {
    return new Render.Policy(Rule.builder("api").limit(limit).build(), RateLimitHeaders.DRAFT_10, true).policyField;
  }

  @Test
  void aTokenBucketMapsOntoQuotaAndWindow() {
    assertThat(policy("100/s")).isEqualTo("\"api\";q=100;w=1");
    assertThat(policy("100/s burst 20")).isEqualTo("\"api\";q=100;w=1");
    assertThat(policy("6000/min")).isEqualTo("\"api\";q=6000;w=60");
    assertThat(policy("4/s every 250ms")).isEqualTo("\"api\";q=4;w=1");
    assertThat(policy("1/day")).isEqualTo("\"api\";q=1;w=86400");
    // Periods that are not whole seconds widen to the next second; the quota is scaled down, never up.
    assertThat(policy("1/1500ms")).isEqualTo("\"api\";q=1;w=2");
    assertThat(policy("3/700ms")).isEqualTo("\"api\";q=4;w=1");
    assertThat(policy("1/100ms")).isEqualTo("\"api\";q=10;w=1");
    assertThat(policy("10/s and 1000/h")).isEqualTo("\"api-1\";q=10;w=1, \"api-2\";q=1000;w=3600");
    for (String limit : new String[] {"100/s", "1/1500ms", "10/s and 1000/h", "1000000000/s burst 1000"}) {
      List<StructuredFields.Member> items = StructuredFields.parseList(policy(limit));
      assertThat(items).isNotEmpty().allSatisfy(m -> {
        assertThat(m.value()).isInstanceOf(String.class);
        assertThat(m.integer("q")).isNotNegative();
        assertThat(m.integer("w")).isPositive();
      });
    }
  }

  @Test
  void secondsAreRoundedUpAndAPositiveWaitIsNeverZero() {
    assertThat(Render.ceilSeconds(0)).isZero();
    assertThat(Render.ceilSeconds(1)).isEqualTo(1);
    assertThat(Render.ceilSeconds(1_000_000_000)).isEqualTo(1);
    assertThat(Render.ceilSeconds(1_000_000_001)).isEqualTo(2);
    assertThat(Render.ceilSeconds(Long.MAX_VALUE)).isEqualTo(9_223_372_037L);
    assertThat(Render.retryAfter(0)).isEqualTo(1);
    assertThat(Render.retryAfter(1)).isEqualTo(1);
    assertThat(Render.retryAfter(2_500_000_000L)).isEqualTo(3);
  }

  @Test
  void problemBodiesAreValidJsonWithNothingThatCouldOpenATag() {
    String hostile = "\"}<script>alert(1)</script>&\\\u0000\u2028é";
    String json = new Render.Json().field("detail", hostile).field("list", List.of(hostile, "x")).field("n", 7).end();
    assertThat(json).doesNotContain("<", ">", "&", "\u2028", "é");
    assertThat(json.chars()).allMatch(c -> c >= 0x20 && c < 0x7f);
    Map<String, Object> parsed = JsonReader.object(json);
    assertThat(parsed.get("detail")).isEqualTo(hostile);
    assertThat(parsed.get("list")).isEqualTo(List.of(hostile, "x"));
    assertThat(parsed.get("n")).hasToString("7");
  }

  @Test
  void structuredFieldStringsEscapeQuotesAndRefuseNonAscii() {
    assertThat(Render.sfString("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    assertThat(StructuredFields.parseItem(Render.sfString("a\"b\\c")).value()).isEqualTo("a\"b\\c");
    assertThatThrownBy(() -> Render.sfString("é")).isInstanceOf(IllegalArgumentException.class);
  }
}
