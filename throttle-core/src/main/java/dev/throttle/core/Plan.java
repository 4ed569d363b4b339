package dev.throttle.core;

import java.util.List;

/**
 * A {@link Limit} compiled to the integers that {@link BucketMath} works with. Immutable.
 *
 * <p>Per bucket {@code j}, in <em>credits</em> (see {@link BucketMath}):
 *
 * <ul>
 *   <li>greedy refill: {@code rate[j]} credits accrue per nanosecond and one token costs {@code unit[j]} credits,
 *       where {@code rate/unit} is {@code amount/period} in lowest terms;
 *   <li>interval refill: {@code rate[j]} tokens arrive at each boundary of {@code interval[j]} nanoseconds and one
 *       token costs one credit;
 *   <li>{@code capacity[j]} is the burst in credits;
 *   <li>{@code phase[j]}, for interval refill, is the Unix time at the limiter's creation modulo the interval:
 *       boundaries lie at the times {@code t} (since creation) where {@code t + phase} is a multiple of the
 *       interval, that is at multiples of the interval in Unix time.
 * </ul>
 */
final class Plan {

  final Limit limit;
  final int n;
  final long[] rate;
  final long[] unit;
  final long[] capacity;
  final long[] interval; // 0: greedy
  final long[] phase; // interval refill: the Unix time at creation modulo the interval
  final long maxCost;
  final boolean single;

  /**
   * Epochs advance in quanta of {@code 1 << quantumShift} ns. A quantum is at most {@code 2^60 / rate} for every
   * greedy bucket, so that {@code elapsed * rate} stays below {@code 2^63} for elapsed times up to 8 quanta, and at
   * least half of that, so that a bucket refills completely in 2 quanta (its capacity is at most {@code 2^60}
   * credits). Bucket state is rebased to a newer epoch when a quantum has passed.
   */
  final int quantumShift;

  /** The plan of a limiter created at Unix time 0 (or a multiple of every interval), as the vector table has it. */
  Plan(Limit limit) {
    this(limit, 0);
  }

  /** The plan of a limiter created at Unix time {@code unixNanosAtCreation}. */
  Plan(Limit limit, long unixNanosAtCreation) {
    this.limit = limit;
    List<Bandwidth> bandwidths = limit.bandwidths();
    n = bandwidths.size();
    rate = new long[n];
    unit = new long[n];
    capacity = new long[n];
    interval = new long[n];
    phase = new long[n];
    long maxRate = 1;
    for (int j = 0; j < n; j++) {
      Bandwidth b = bandwidths.get(j);
      if (b.isIntervalRefill()) {
        interval[j] = b.refillIntervalNanos();
        phase[j] = Math.floorMod(unixNanosAtCreation, interval[j]);
        rate[j] = b.tokensPerInterval();
        unit[j] = 1;
      } else {
        long g = Bandwidth.gcd(b.amount(), b.periodNanos());
        rate[j] = b.amount() / g;
        unit[j] = b.periodNanos() / g;
        maxRate = Math.max(maxRate, rate[j]);
      }
      capacity[j] = b.burst() * unit[j];
    }
    maxCost = limit.burst();
    single = n == 1;
    quantumShift = 63 - Long.numberOfLeadingZeros(Bandwidth.MAX_CREDITS / maxRate);
  }

  long quantum() {
    return 1L << quantumShift;
  }
}
