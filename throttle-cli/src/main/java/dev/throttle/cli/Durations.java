package dev.throttle.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Reads durations in flags: {@code 250ms}, {@code 1s}, {@code 1.5s}, {@code 2min}, {@code 1h}, or ISO-8601 {@code PT1S}. */
final class Durations implements CommandLine.ITypeConverter<Duration> {

  private static final Pattern FORM = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|min|h)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    Matcher m = FORM.matcher(v);
    if (m.matches()) {
      long unitNanos = switch (m.group(2)) {
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "min" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      };
      BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unitNanos));
      if (nanos.compareTo(BigDecimal.valueOf(Duration.ofDays(365).toNanos())) > 0) {
        throw new CommandLine.TypeConversionException("'" + value + "' is longer than a year");
      }
      return Duration.ofNanos(nanos.longValue());
    }
    if (v.startsWith("pt") || v.startsWith("p")) {
      try {
        return Duration.parse(value.trim());
      } catch (DateTimeParseException e) {
        // fall through to the message below
      }
    }
    throw new CommandLine.TypeConversionException("'" + value
        + "' is not a duration (expected a number and a unit: 250ms, 1s, 1.5s, 2min, 1h; or ISO-8601 such as PT1S)");
  }

  static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }
}
