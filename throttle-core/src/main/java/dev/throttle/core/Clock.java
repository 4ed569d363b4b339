package dev.throttle.core;

/**
 * A source of monotonic time in nanoseconds, like {@link System#nanoTime()}.
 *
 * <p>Only the limiters read a clock; the bucket math takes time as an argument. Values are meaningful only as
 * differences: a clock may start anywhere, including at negative values or near {@link Long#MAX_VALUE}, and
 * Throttle subtracts them with wrap-around arithmetic. A clock must never go backwards.
 *
 * <p>Tests drive a {@link ManualClock} instead of waiting for wall time.
 */
@FunctionalInterface
public interface Clock {

  /** The current time in nanoseconds; only differences between two readings are meaningful. */
  long nanoTime();

  /** The system's monotonic clock, {@link System#nanoTime()}. */
  static Clock system() {
    return SystemClock.INSTANCE;
  }
}

/** The system clock as a named singleton, so that it prints readably and compares by identity. */
enum SystemClock implements Clock {
  INSTANCE;

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
