package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LimitTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      100/s                      | 100 | 1000000000       | 100  | 0
      100/s burst 20             | 100 | 1000000000       | 20   | 0
      6000/min                   | 6000| 60000000000      | 6000 | 0
      1000/h                     | 1000| 3600000000000    | 1000 | 0
      1/day                      | 1   | 86400000000000   | 1    | 0
      4/s every 250ms            | 4   | 1000000000       | 4    | 250000000
      100/10s burst 5            | 100 | 10000000000      | 5    | 0
      5/ms                       | 5   | 1000000          | 5    | 0
      """)
  void readsEveryFormOfTheGrammar(String text, long amount, long periodNanos, long burst, long intervalNanos) {
    Limit limit = Limit.parse(text);
    assertThat(limit.bandwidths()).hasSize(1);
    Bandwidth b = limit.bandwidths().get(0);
    assertThat(b.amount()).isEqualTo(amount);
    assertThat(b.periodNanos()).isEqualTo(periodNanos);
    assertThat(b.burst()).isEqualTo(burst);
    assertThat(b.refillIntervalNanos()).isEqualTo(intervalNanos);
    assertThat(limit.toString()).isEqualTo(text);
  }

  @Test
  void severalLimitsAreJoinedWithAnd() {
    Limit limit = Limit.parse("10/s and 1000/h");
    assertThat(limit.bandwidths()).extracting(Bandwidth::toString).containsExactly("10/s", "1000/h");
    assertThat(limit.burst()).isEqualTo(10);
    assertThat(limit).hasToString("10/s and 1000/h");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      '  100 / s  BURST 20 '         | 100/s burst 20
      100/second                     | 100/s
      1_000/s                        | 1000/s
      60/1min                        | 60/min
      100/60s                        | 100/min
      4/s  Every 250 ms              | 4/s every 250ms
      4/s every 250ms burst 8        | 4/s burst 8 every 250ms
      100/1000ms                     | 100/s
      10/s AND 1000/hour and 1/d     | 10/s and 1000/h and 1/day
      """)
  void acceptsSpacingCaseAndUnitSpellingsAndPrintsTheCanonicalForm(String text, String canonical) {
    assertThat(Limit.parse(text)).hasToString(canonical);
  }

  @Test
  void equalLimitsAreEqual() {
    assertThat(Limit.parse("100/s")).isEqualTo(Limit.parse("100/1s burst 100")).hasSameHashCodeAs(Limit.parse("100/s"));
    assertThat(Limit.parse("100/s")).isNotEqualTo(Limit.parse("100/s burst 99"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      ''                         | the text is empty
      '   '                      | the text is empty
      0/s                        | the amount must be at least 1 token per period, got 0
      -5/s                       | the amount must be at least 1 token per period, got -5
      10/s burst 0               | the burst must be at least 1 token, got 0
      10/s burst -1              | the burst must be at least 1 token, got -1
      10/fortnight               | unknown unit 'fortnight' for the period
      10                         | expected '/' after the amount 10
      /s                         | expected the amount (tokens per period) as a whole number at position 1
      ten/s                      | expected the amount (tokens per period) as a whole number at position 1, found 'ten'
      1.5/s                      | the amount (tokens per period) must be a whole number, found '1.'
      99999999999999999999/s     | the amount (tokens per period) 99999999999999999999 is too large
      1/9999999999999999999day   | the period 9999999999999999999 is too large
      1/999999999999999day       | the period 999999999999999day is too long
      2000000000/s               | faster than the largest supported rate, 1000000000/s
      1/2day                     | slower than the smallest supported rate, 1/day
      10/s every 150ms           | not a whole number of tokens
      4/s burst 1 every 500ms    | adds 2 tokens at once, more than the burst 1
      10/s burst 20 burst 30     | unexpected 'burst 30'
      10/s or 20/min             | unexpected 'or 20/min'
      10/s and                   | expected the amount (tokens per period) as a whole number
      999999999/s burst 9999999999 | is too large for the rate 999999999/s: at most
      """)
  void rejectsInvalidTextQuotingItAndShowingTheGrammar(String text, String reason) {
    assertThatThrownBy(() -> Limit.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid limit '" + text + "': ")
        .hasMessageContaining(reason)
        .hasMessageEndingWith("Expected " + Limit.GRAMMAR);
  }

  @Test
  void rejectsNull() {
    assertThatThrownBy(() -> Limit.parse(null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Limit.GRAMMAR);
  }

  @Test
  void buildsInCodeWithDurations() {
    Limit limit = Limit.builder()
        .rate(100, Duration.ofSeconds(1)).burst(20)
        .rate(4, Duration.ofSeconds(1)).refillEvery(Duration.ofMillis(250))
        .build();
    assertThat(limit).isEqualTo(Limit.parse("100/s burst 20 and 4/s every 250ms"));
    assertThat(Limit.of(6000, Duration.ofMinutes(1))).isEqualTo(Limit.parse("6000/min"));
  }

  @Test
  void builderRejectsInvalidValuesNamingThem() {
    assertThatThrownBy(() -> Limit.builder().rate(0, Duration.ofSeconds(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rate 0 per PT1S").hasMessageContaining("at least 1 token per period, got 0");
    assertThatThrownBy(() -> Limit.builder().rate(10, Duration.ofNanos(1500)).build())
        .hasMessageContaining("whole number of milliseconds");
    assertThatThrownBy(() -> Limit.builder().rate(10, Duration.ofSeconds(-1)).build())
        .hasMessageContaining("must be positive, got PT-1S");
    assertThatThrownBy(() -> Limit.builder().rate(10, Duration.ofSeconds(1)).burst(0).build())
        .hasMessageContaining("burst must be at least 1 token, got 0");
    assertThatThrownBy(() -> Limit.builder().build()).hasMessageContaining("at least one rate(amount, period)");
    assertThatThrownBy(() -> Limit.builder().burst(3)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("burst() needs a rate(amount, period) before it");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1/day", "1000000000/s", "86400000000000/day", "1000000/ms", "1/day burst 13343"})
  void acceptsTheExtremesOfTheSupportedRange(String text) {
    assertThat(Limit.parse(text)).hasToString(text);
  }

  @Test
  void onlyAsciiDigitsAreNumbers() {
    // Character.isDigit and Long.parseLong take fullwidth and Arabic-Indic digits; the grammar does not.
    for (String text : new String[] {"\uff11\uff10/s", "\u0661\u0660/s", "10/\uff12s", "10/s burst \u0665"}) {
      assertThatThrownBy(() -> Limit.parse(text))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("Invalid limit '" + text + "'");
    }
  }
}
