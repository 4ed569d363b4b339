package dev.throttle.cli;

import java.time.Duration;
import picocli.CommandLine;

/**
 * The picocli converter of duration flags: reads them with the core's {@link dev.throttle.core.Durations}
 * ({@code 250ms}, {@code 1.5s}, {@code 2min}).
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    try {
      return dev.throttle.core.Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }

  static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }
}
