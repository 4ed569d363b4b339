package dev.throttle.core;

import java.util.Locale;

/** The time units of the limit grammar: ms, s, min, h, day. */
final class Units {

  private Units() {}

  private static final String[] NAMES = {"day", "h", "min", "s", "ms"};
  private static final long[] NANOS = {Bandwidth.DAY, Bandwidth.HOUR, Bandwidth.MINUTE, Bandwidth.SECOND, Bandwidth.MS};

  /**
   * Formats a whole number of milliseconds with the largest unit that divides it: {@code 250ms}, {@code 90s},
   * {@code 2h}. With {@code bareOne}, exactly one unit prints as the unit alone ({@code s}, as in {@code 100/s}).
   */
  static String format(long nanos, boolean bareOne) {
    for (int i = 0; i < NAMES.length; i++) {
      if (nanos % NANOS[i] == 0) {
        long n = nanos / NANOS[i];
        return bareOne && n == 1 ? NAMES[i] : n + NAMES[i];
      }
    }
    return nanos + "ns"; // not reachable for validated values, which are whole milliseconds
  }

  /** Nanoseconds in one of the unit's spellings, or -1 when the word is not a unit. */
  static long parse(String word) {
    switch (word.toLowerCase(Locale.ROOT)) {
      case "ms":
      case "msec":
      case "millis":
      case "millisecond":
      case "milliseconds":
        return Bandwidth.MS;
      case "s":
      case "sec":
      case "secs":
      case "second":
      case "seconds":
        return Bandwidth.SECOND;
      case "min":
      case "mins":
      case "minute":
      case "minutes":
        return Bandwidth.MINUTE;
      case "h":
      case "hr":
      case "hour":
      case "hours":
        return Bandwidth.HOUR;
      case "d":
      case "day":
      case "days":
        return Bandwidth.DAY;
      default:
        return -1;
    }
  }
}
