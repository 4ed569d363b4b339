package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      0          | 0             | 0
      250ms      | 250000000     | 250ms
      2s         | 2000000000    | 2s
      1.5s       | 1500000000    | 1500ms
      2min       | 120000000000  | 2min
      90 s       | 90000000000   | 90s
      1h         | 3600000000000 | 1h
      1day       | 86400000000000| 1day
      0.5ms      | 500000        | 0.5ms
      0.000001ms | 1             | 0.000001ms
      """)
  void readsAndWritesTheGrammarsDurations(String text, long nanos, String canonical) {
    Duration d = Durations.parse(text);
    assertThat(d.toNanos()).isEqualTo(nanos);
    assertThat(Durations.format(d)).isEqualTo(canonical);
    assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "s", "-1s", "1 fortnight", "1..5s", "PT1S", "1e3ms"})
  void rejectsWhatIsNotADurationQuotingIt(String text) {
    assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @Test
  void rejectsFinerThanANanosecondAndTooLong() {
    assertThatThrownBy(() -> Durations.parse("0.0000001ms")).hasMessage("'0.0000001ms' is finer than a nanosecond");
    assertThatThrownBy(() -> Durations.parse("300000day")).hasMessageContaining("too long");
  }
}
