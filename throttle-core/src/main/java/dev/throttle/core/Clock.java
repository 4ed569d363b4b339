package dev.throttle.core;

/**
 * A source of monotonic time in nanoseconds, like {@link System#nanoTime()}.
 *
 * <p>Only the limiters read a clock; the bucket math takes time as an argument. Values are meaningful only as
 * differences: a clock may start anywhere, including at negative values or near {@link Long#MAX_VALUE}, and
 * Throttle subtracts them with wrap-around arithmetic. A clock must never go backwards.
 *
 * <p>Interval refill (see {@link Bandwidth#refillInterval()}) puts its boundaries at multiples of the interval in
 * Unix time, so that every process (and Redis) agrees where they lie; {@link #unixNanosAt(long)} tells a limiter
 * where its clock stands in Unix time.
 *
 * <p>Tests drive a {@link ManualClock} instead of waiting for wall time.
 */
@FunctionalInterface
public interface Clock {

  /** The current time in nanoseconds; only differences between two readings are meaningful. */
  long nanoTime();

  /**
   * The Unix time, in nanoseconds since 1970-01-01T00:00:00Z, at which this clock reads {@code nanoTime}. A limiter
   * asks once, when it is created, to place the boundaries of interval refill; nothing else depends on it. The
   * default takes the readings as Unix time; the system clock adds the offset between {@link System#nanoTime()}
   * and the wall clock, read once (so a wall clock set later does not move the boundaries of a running limiter).
   */
  default long unixNanosAt(long nanoTime) {
    return nanoTime;
  }

  /** The system's monotonic clock, {@link System#nanoTime()}. */
  static Clock system() {
    return SystemClock.INSTANCE;
  }
}

/** The system clock as a named singleton, so that it prints readably and compares by identity. */
enum SystemClock implements Clock {
  INSTANCE;

  /** Unix nanoseconds minus System.nanoTime(), read once (to the microsecond, as the platform's clock gives it). */
  private final long unixOffset = unixOffset();

  private static long unixOffset() {
    java.time.Instant now = java.time.Instant.now();
    long nano = System.nanoTime();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano() - nano;
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public long unixNanosAt(long nanoTime) {
    return nanoTime + unixOffset;
  }

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
