package dev.throttle.core;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Objects;

/**
 * One token bucket: {@code amount} tokens every {@code period}, holding at most {@code capacity} (the burst).
 * A {@link Limit} is one or more of these.
 *
 * <p>Tokens are refilled <em>greedily</em> by default: they trickle in continuously, one every
 * {@code period / amount}. With a {@linkplain #refillInterval() refill interval} they arrive in whole chunks of
 * {@code amount * interval / period} at each interval boundary instead (the seeds' {@code refill_interval} and
 * {@code refill_amount}; {@code 4/s every 250ms} adds one token every 250 ms).
 *
 * <p>Immutable and validated on construction; the text form is {@link #toString()}, as in {@code 100/s burst 20}.
 */
public final class Bandwidth {

  static final long MS = 1_000_000L;
  static final long SECOND = 1_000 * MS;
  static final long MINUTE = 60 * SECOND;
  static final long HOUR = 60 * MINUTE;
  static final long DAY = 24 * HOUR;

  /** Largest capacity in credits (see {@link Plan}); keeps every level and clock product far from overflow. */
  static final long MAX_CREDITS = 1L << 60;

  private final long amount;
  private final long periodNanos;
  private final long capacity;
  private final long intervalNanos; // 0: greedy refill

  private Bandwidth(long amount, long periodNanos, long capacity, long intervalNanos) {
    this.amount = amount;
    this.periodNanos = periodNanos;
    this.capacity = capacity;
    this.intervalNanos = intervalNanos;
  }

  /**
   * Validates and creates a bandwidth.
   *
   * @param amount tokens added per period, at least 1
   * @param period whole milliseconds, at least 1 ms; the rate must lie between 1/day and 10^9/s
   * @param capacity the burst, at least 1; also the largest cost one request may have
   * @param refillInterval {@code null} or {@link Duration#ZERO} for greedy refill; otherwise whole milliseconds, such
   *     that each interval adds a whole number of tokens, no more than the capacity
   * @throws IllegalArgumentException naming the offending value and what is allowed
   */
  static Bandwidth of(long amount, Duration period, long capacity, Duration refillInterval) {
    Objects.requireNonNull(period, "period");
    long periodNanos = wholeMillisNanos(period, "period");
    long intervalNanos =
        refillInterval == null || refillInterval.isZero() ? 0 : wholeMillisNanos(refillInterval, "refill interval");
    return of(amount, periodNanos, capacity, intervalNanos);
  }

  static Bandwidth of(long amount, long periodNanos, long capacity, long intervalNanos) {
    if (amount < 1) {
      throw new IllegalArgumentException("the amount must be at least 1 token per period, got " + amount);
    }
    if (periodNanos < MS || periodNanos % MS != 0) {
      throw new IllegalArgumentException(
          "the period must be a whole number of milliseconds, at least 1ms, got " + periodNanos + "ns");
    }
    if (amount > periodNanos) {
      throw new IllegalArgumentException("the rate " + amount + "/" + Units.format(periodNanos, true)
          + " is faster than the largest supported rate, 1000000000/s");
    }
    if (ceilDiv(periodNanos, DAY) > amount) {
      throw new IllegalArgumentException("the rate " + amount + "/" + Units.format(periodNanos, true)
          + " is slower than the smallest supported rate, 1/day");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("the burst must be at least 1 token, got " + capacity);
    }
    long creditsPerToken = periodNanos / gcd(amount, periodNanos);
    if (intervalNanos == 0) {
      long maxCapacity = MAX_CREDITS / creditsPerToken;
      if (capacity > maxCapacity) {
        throw new IllegalArgumentException("the burst " + capacity + " is too large for the rate " + amount + "/"
            + Units.format(periodNanos, true) + ": at most " + maxCapacity
            + " tokens can be counted exactly (the bucket would take centuries to refill)");
      }
    } else {
      if (intervalNanos < MS || intervalNanos % MS != 0) {
        throw new IllegalArgumentException("the refill interval must be a whole number of milliseconds, at least 1ms, got "
            + intervalNanos + "ns");
      }
      BigInteger[] perInterval = BigInteger.valueOf(amount).multiply(BigInteger.valueOf(intervalNanos))
          .divideAndRemainder(BigInteger.valueOf(periodNanos));
      if (perInterval[1].signum() != 0 || perInterval[0].signum() == 0) {
        throw new IllegalArgumentException("refilling " + amount + "/" + Units.format(periodNanos, true) + " every "
            + Units.format(intervalNanos, false) + " would add " + amount + " x " + Units.format(intervalNanos, false)
            + " / " + Units.format(periodNanos, false)
            + " tokens per interval, which is not a whole number of tokens; choose an interval that divides evenly");
      }
      if (perInterval[0].compareTo(BigInteger.valueOf(capacity)) > 0) {
        throw new IllegalArgumentException("refilling " + amount + "/" + Units.format(periodNanos, true) + " every "
            + Units.format(intervalNanos, false) + " adds " + perInterval[0] + " tokens at once, more than the burst "
            + capacity + "; use a shorter interval or a larger burst");
      }
    }
    return new Bandwidth(amount, periodNanos, capacity, intervalNanos);
  }

  private static long wholeMillisNanos(Duration d, String what) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("the " + what + " must be positive, got " + d);
    }
    if (d.getNano() % MS != 0) {
      throw new IllegalArgumentException("the " + what + " must be a whole number of milliseconds, got " + d);
    }
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("the " + what + " is too long: " + d);
    }
  }

  /** Tokens added per period. */
  public long amount() {
    return amount;
  }

  /** The period over which {@link #amount()} tokens are added. */
  public Duration period() {
    return Duration.ofNanos(periodNanos);
  }

  /** The period in nanoseconds. */
  public long periodNanos() {
    return periodNanos;
  }

  /** The most tokens the bucket holds: the burst, and the largest cost of one request. */
  public long burst() {
    return capacity;
  }

  /** Whether tokens arrive in chunks at interval boundaries rather than continuously. */
  public boolean isIntervalRefill() {
    return intervalNanos != 0;
  }

  /** The refill interval, or {@link Duration#ZERO} for greedy (continuous) refill. */
  public Duration refillInterval() {
    return Duration.ofNanos(intervalNanos);
  }

  /** The refill interval in nanoseconds, 0 for greedy refill. */
  public long refillIntervalNanos() {
    return intervalNanos;
  }

  /** With interval refill, the tokens added at each interval boundary; with greedy refill, 0. */
  public long tokensPerInterval() {
    return intervalNanos == 0 ? 0 : BigInteger.valueOf(amount).multiply(BigInteger.valueOf(intervalNanos))
        .divide(BigInteger.valueOf(periodNanos)).longValueExact();
  }

  /** A copy with another burst. */
  public Bandwidth withBurst(long newCapacity) {
    return of(amount, periodNanos, newCapacity, intervalNanos);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bandwidth b && amount == b.amount && periodNanos == b.periodNanos && capacity == b.capacity
        && intervalNanos == b.intervalNanos;
  }

  @Override
  public int hashCode() {
    return Objects.hash(amount, periodNanos, capacity, intervalNanos);
  }

  /** The text form, as {@link Limit#parse(String)} reads it: {@code 100/s}, {@code 100/s burst 20}, {@code 4/s every 250ms}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(amount).append('/').append(Units.format(periodNanos, true));
    if (capacity != amount) {
      sb.append(" burst ").append(capacity);
    }
    if (intervalNanos != 0) {
      sb.append(" every ").append(Units.format(intervalNanos, false));
    }
    return sb.toString();
  }

  static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  private static long ceilDiv(long x, long y) {
    return -Math.floorDiv(-x, y);
  }
}
