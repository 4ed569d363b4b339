package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.net.http.HttpHeaders;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuotaFieldsTest {

  private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

  private static QuotaFields parse(String... nameValues) {
    Map<String, List<String>> map = new LinkedHashMap<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      map.put(nameValues[i], List.of(nameValues[i + 1]));
    }
    return QuotaFields.parse(HttpHeaders.of(map, (a, b) -> true), NOW);
  }

  @Test
  void draft10TakesTheBindingPolicyTheOneWithTheFewestLeft() {
    QuotaFields f = parse("RateLimit-Policy", "\"burst\";q=100;w=60, \"day\";q=1000;w=86400",
        "RateLimit", "\"burst\";r=40;t=30, \"day\";r=7;t=3600");
    assertThat(f.remaining()).contains(7L);
    assertThat(f.resetSeconds()).contains(new BigDecimal("3600"));
    assertThat(f.quota()).contains(1000L);
    assertThat(f.windowSeconds()).contains(BigDecimal.valueOf(86400));
    assertThat(f.dialect()).isEqualTo("RateLimit (draft-10)");
  }

  @Test
  void draft7IsOneDictionaryWithThePolicyBeside() {
    QuotaFields f = parse("RateLimit-Policy", "50;w=1", "RateLimit", "limit=50, remaining=49, reset=1");
    assertThat(f.quota()).contains(50L);
    assertThat(f.windowSeconds()).contains(BigDecimal.ONE);
    assertThat(f.remaining()).contains(49L);
    assertThat(f.resetSeconds()).contains(BigDecimal.ONE);
    assertThat(f.ratePerSecond()).contains(50.0);
    assertThat(f.dialect()).isEqualTo("RateLimit (draft-7)");
  }

  @Test
  void draft6IsThreeFields() {
    QuotaFields f = parse("RateLimit-Policy", "10;w=60", "RateLimit-Limit", "10", "RateLimit-Remaining", "3",
        "RateLimit-Reset", "12");
    assertThat(f.quota()).contains(10L);
    assertThat(f.windowSeconds()).contains(BigDecimal.valueOf(60));
    assertThat(f.remaining()).contains(3L);
    assertThat(f.resetSeconds()).contains(BigDecimal.valueOf(12));
  }

  @Test
  void legacyResetIsSecondsOrAUnixTimeInSecondsOrMilliseconds() {
    assertThat(parse("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "30").resetSeconds())
        .contains(BigDecimal.valueOf(30));
    long unix = NOW.getEpochSecond() + 42; // as GitHub sends it
    assertThat(parse("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", String.valueOf(unix)).resetSeconds())
        .contains(BigDecimal.valueOf(42));
    assertThat(parse("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", unix * 1000 + "").resetSeconds())
        .hasValueSatisfying(s -> assertThat(s).isEqualByComparingTo("42"));
    // a reset in the past is now, never a negative wait
    assertThat(parse("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", String.valueOf(unix - 100)).resetSeconds())
        .contains(BigDecimal.ZERO);
  }

  @Test
  void unreadableValuesAreIgnoredAndNoFieldsIsNone() {
    QuotaFields f = parse("RateLimit", "\"p\";r=-1;t=soon", "X-RateLimit-Remaining", "many");
    assertThat(f.remaining()).isEmpty();
    assertThat(f.isEmpty()).isTrue();
    assertThat(parse("Content-Type", "text/plain")).isSameAs(QuotaFields.NONE);
  }
}
