package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerWaitTest {

  private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

  private static HttpHeaders headers(String... nameValue) {
    Map<String, List<String>> map = new HashMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      map.put(nameValue[i], List.of(nameValue[i + 1]));
    }
    return HttpHeaders.of(map, (a, b) -> true);
  }

  private static String httpDate(Instant t) {
    return DateTimeFormatter.RFC_1123_DATE_TIME.format(t.atOffset(ZoneOffset.UTC));
  }

  private static ServerWait parse(String... nameValue) {
    return ServerWait.parse(headers(nameValue), NOW);
  }

  @Test
  void retryAfterInSeconds() {
    assertThat(parse("Retry-After", "120").waitTime()).contains(Duration.ofSeconds(120));
    assertThat(parse("Retry-After", " 0 ").waitTime()).contains(Duration.ZERO);
  }

  @Test
  void retryAfterAsAnHttpDateIsMeasuredFromTheServersDateHeader() {
    // The client's clock is an hour off: the Date header is what counts.
    Instant serverNow = NOW.plusSeconds(3600);
    ServerWait w = parse("Retry-After", httpDate(serverNow.plusSeconds(7)), "Date", httpDate(serverNow));
    assertThat(w.waitTime()).contains(Duration.ofSeconds(7));
  }

  @Test
  void retryAfterAsAnHttpDateWithoutDateHeaderUsesTheClientClock() {
    assertThat(parse("Retry-After", httpDate(NOW.plusSeconds(3))).waitTime()).contains(Duration.ofSeconds(3));
  }

  @Test
  void aDateInThePastMeansNoWait() {
    assertThat(parse("Retry-After", httpDate(NOW.minusSeconds(30))).waitTime()).contains(Duration.ZERO);
  }

  @Test
  void rateLimitTakesTheLongestResetOfTheExhaustedPolicies() {
    assertThat(parse("RateLimit", "\"default\";r=0;t=5").waitTime()).contains(Duration.ofSeconds(5));
    // The hourly policy still has room: its reset is no reason to wait.
    assertThat(parse("RateLimit", "\"burst\";r=0;t=2, \"hour\";r=100;t=3000").waitTime())
        .contains(Duration.ofSeconds(2));
    assertThat(parse("RateLimit", "\"a\";r=0;t=2, \"b\";r=0;t=9").waitTime()).contains(Duration.ofSeconds(9));
    // The older draft's dictionary form
    assertThat(parse("RateLimit", "limit=10, remaining=0, reset=4").waitTime()).contains(Duration.ofSeconds(4));
  }

  @Test
  void xRateLimitResetAsSecondsOrAsAUnixTime() {
    assertThat(parse("X-RateLimit-Reset", "30").waitTime()).contains(Duration.ofSeconds(30));
    assertThat(parse("X-RateLimit-Reset", "1.5").waitTime()).contains(Duration.ofMillis(1500));
    long epoch = NOW.getEpochSecond() + 42;
    assertThat(parse("X-RateLimit-Reset", Long.toString(epoch)).waitTime()).contains(Duration.ofSeconds(42));
    assertThat(parse("X-RateLimit-Reset", Long.toString(epoch * 1000)).waitTime()).contains(Duration.ofSeconds(42));
    assertThat(parse("X-RateLimit-Reset", Long.toString(NOW.getEpochSecond() - 5)).waitTime())
        .contains(Duration.ZERO);
  }

  @Test
  void precedenceIsRetryAfterThenRateLimitThenXRateLimitReset() {
    assertThat(parse("Retry-After", "1", "RateLimit", "\"d\";r=0;t=2", "X-RateLimit-Reset", "3").source())
        .isEqualTo("Retry-After: 1");
    assertThat(parse("RateLimit", "\"d\";r=0;t=2", "X-RateLimit-Reset", "3").source())
        .isEqualTo("RateLimit: \"d\";r=0;t=2");
  }

  @Test
  void garbageIsReportedAndTheNextHeaderIsTried() {
    ServerWait w = parse("Retry-After", "soon", "X-RateLimit-Reset", "3");
    assertThat(w.waitTime()).contains(Duration.ofSeconds(3));
    assertThat(w.problems()).containsExactly("Retry-After 'soon' is neither delay-seconds nor an HTTP-date");

    ServerWait none = parse("Retry-After", "-5", "RateLimit", "\"d\";r=0;t=-1", "X-RateLimit-Reset", "abc");
    assertThat(none.waitTime()).isEmpty();
    assertThat(none.problems()).hasSize(3);
    assertThat(none.problems().get(0)).contains("'-5'");
  }

  @Test
  void noHeaderNoWaitNoProblem() {
    ServerWait w = parse("Content-Type", "text/plain");
    assertThat(w.waitTime()).isEmpty();
    assertThat(w.problems()).isEmpty();
  }

  @Test
  void absurdValuesSaturateInsteadOfOverflowing() {
    Duration huge = parse("Retry-After", "99999999999999999999999999").waitTime().orElseThrow();
    assertThat(huge).isGreaterThan(Duration.ofDays(100_000));
    Duration years = parse("Retry-After", httpDate(NOW.plus(Duration.ofDays(3650)))).waitTime().orElseThrow();
    assertThat(years).isEqualTo(Duration.ofDays(3650));
    assertThat(parse("X-RateLimit-Reset", "9".repeat(40)).waitTime().orElseThrow()).isGreaterThan(Duration.ofDays(1));
  }
}
