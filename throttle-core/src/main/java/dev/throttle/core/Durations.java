package dev.throttle.core;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;

/**
 * Durations in the text of flags and configuration, with the units of the {@link Limit} grammar: a number and a unit,
 * {@code 250ms}, {@code 2s}, {@code 1.5s}, {@code 2min}, {@code 1h}, {@code 1day}; {@code 0} needs no unit.
 * {@link #format(Duration)} writes the shortest text that reads back to the same duration.
 */
public final class Durations {

  private Durations() {}

  /**
   * Reads {@code text}.
   *
   * @throws IllegalArgumentException quoting the text and showing the form, when it is not a duration, is negative,
   *     is finer than a nanosecond or does not fit in a {@link Duration} of nanoseconds
   */
  public static Duration parse(String text) {
    if (text == null) {
      throw invalid("null");
    }
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    int i = 0;
    while (i < t.length() && (t.charAt(i) == '.' || (t.charAt(i) >= '0' && t.charAt(i) <= '9'))) {
      i++;
    }
    if (i == 0 || i > 30) {
      throw invalid(text);
    }
    long unit = Units.parse(t.substring(i).strip());
    if (unit < 0) {
      throw invalid(text);
    }
    BigDecimal nanos;
    try {
      nanos = new BigDecimal(t.substring(0, i)).multiply(BigDecimal.valueOf(unit));
    } catch (NumberFormatException e) {
      throw invalid(text);
    }
    if (nanos.stripTrailingZeros().scale() > 0) {
      throw new IllegalArgumentException("'" + text + "' is finer than a nanosecond");
    }
    if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException("'" + text + "' is too long (at most about 292 years)");
    }
    return Duration.ofNanos(nanos.longValueExact());
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("'" + text + "' is not a duration: expected a number and a unit (ms, s, min, "
        + "h, day), such as 250ms, 1.5s or 2min");
  }

  /** The shortest text {@link #parse} reads back to {@code d} ({@code 0}, {@code 250ms}, {@code 90s}, {@code 1.5ms}). */
  public static String format(Duration d) {
    long nanos = d.toNanos();
    if (nanos == 0) {
      return "0";
    }
    if (nanos % Bandwidth.MS == 0) {
      return Units.format(nanos, /* bareOne= */ false);
    }
    return BigDecimal.valueOf(nanos).movePointLeft(6).stripTrailingZeros().toPlainString() + "ms";
  }
}
