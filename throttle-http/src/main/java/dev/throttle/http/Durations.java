package dev.throttle.http;

import java.time.Duration;
import java.util.Locale;

/**
 * Durations in configuration text: a whole number and a unit, {@code 500ms}, {@code 2s}, {@code 1min}, {@code 1h}.
 * The rules' {@code max-wait} uses it, and so do the adapters' own settings (the gateway's timeouts), so that every
 * duration in a configuration reads the same way.
 */
public final class Durations {

  private Durations() {}

  /**
   * Reads {@code text}; {@code 0} needs no unit.
   *
   * @throws IllegalArgumentException naming {@code what}, quoting the text and showing the form
   */
  public static Duration parse(String what, String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    int i = 0;
    while (i < t.length() && Character.isDigit(t.charAt(i)) && t.charAt(i) < 128) {
      i++;
    }
    String unit = t.substring(i).strip();
    if (i == 0 || i > 12) {
      throw invalid(what, text);
    }
    long n = Long.parseLong(t.substring(0, i));
    switch (unit) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "min":
        return Duration.ofMinutes(n);
      case "h":
        return Duration.ofHours(n);
      default:
        throw invalid(what, text);
    }
  }

  private static IllegalArgumentException invalid(String what, String text) {
    return new IllegalArgumentException(what + " must be a whole number and a unit (ms, s, min, h), such as 500ms or "
        + "2s; got '" + text + "'");
  }

  /** The shortest text {@link #parse} reads back to {@code d} (whole milliseconds; finer parts are dropped). */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "min";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
