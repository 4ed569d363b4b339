package dev.throttle.core;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The textbook token bucket with exact fractions (BigInteger numerator and denominator): tokens are counted, not
 * levels, and nothing is shared with {@link BucketMath}'s credits encoding. Tests compare the two.
 * Mirrors spec/gen-vectors.py.
 */
public final class ReferenceBucket {

  private final List<One> buckets = new ArrayList<>();

  public ReferenceBucket(Limit limit) {
    this(limit, 0);
  }

  /** A bucket created at Unix time {@code unixStart}: interval boundaries lie at multiples of the interval in it. */
  public ReferenceBucket(Limit limit, long unixStart) {
    for (Bandwidth b : limit.bandwidths()) {
      buckets.add(new One(b, unixStart));
    }
  }

  /** The decision at {@code t} (ns since creation, non-decreasing) for {@code cost}. */
  public Decision decide(long t, long cost) {
    boolean allowed = true;
    for (One b : buckets) {
      b.advance(t);
      allowed &= b.tokens.compareTo(Frac.of(cost)) >= 0;
    }
    long remaining = Long.MAX_VALUE;
    long wait = 0;
    long reset = 0;
    for (One b : buckets) {
      if (allowed) {
        b.tokens = b.tokens.minus(Frac.of(cost));
      } else {
        wait = Math.max(wait, b.nanosUntil(cost));
      }
      remaining = Math.min(remaining, b.tokens.floor());
      reset = Math.max(reset, b.nanosUntil(b.burst));
    }
    return allowed ? Decision.allowed(remaining, reset) : Decision.refused(remaining, wait, reset);
  }

  private static final class One {
    final Frac rate; // tokens per ns
    final long burst;
    final long interval;
    final long perInterval;
    final long phase;
    Frac tokens;
    long t;

    One(Bandwidth b, long unixStart) {
      rate = new Frac(BigInteger.valueOf(b.amount()), BigInteger.valueOf(b.periodNanos()));
      burst = b.burst();
      interval = b.refillIntervalNanos();
      perInterval = b.tokensPerInterval();
      phase = interval == 0 ? 0 : Math.floorMod(unixStart, interval);
      tokens = Frac.of(burst);
    }

    void advance(long now) {
      Frac added = interval == 0
          ? rate.times(now - t)
          : Frac.of(((now + phase) / interval - (t + phase) / interval) * perInterval);
      tokens = tokens.plus(added).min(Frac.of(burst));
      t = now;
    }

    long nanosUntil(long needed) {
      Frac missing = Frac.of(needed).minus(tokens);
      if (missing.signum() <= 0) {
        return 0;
      }
      if (interval == 0) {
        return missing.divide(rate).ceil();
      }
      long boundaries = missing.divide(Frac.of(perInterval)).ceil();
      return ((t + phase) / interval + boundaries) * interval - phase - t;
    }
  }

  /** An exact fraction. */
  record Frac(BigInteger num, BigInteger den) {
    Frac {
      if (den.signum() < 0) {
        num = num.negate();
        den = den.negate();
      }
      BigInteger g = num.gcd(den);
      if (g.signum() != 0 && !g.equals(BigInteger.ONE)) {
        num = num.divide(g);
        den = den.divide(g);
      }
    }

    static Frac of(long n) {
      return new Frac(BigInteger.valueOf(n), BigInteger.ONE);
    }

    Frac plus(Frac o) {
      return new Frac(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den));
    }

    Frac minus(Frac o) {
      return plus(new Frac(o.num.negate(), o.den));
    }

    Frac times(long n) {
      return new Frac(num.multiply(BigInteger.valueOf(n)), den);
    }

    Frac divide(Frac o) {
      return new Frac(num.multiply(o.den), den.multiply(o.num));
    }

    Frac min(Frac o) {
      return compareTo(o) <= 0 ? this : o;
    }

    int compareTo(Frac o) {
      return num.multiply(o.den).compareTo(o.num.multiply(den));
    }

    int signum() {
      return num.signum();
    }

    long floor() {
      BigInteger[] qr = num.divideAndRemainder(den);
      BigInteger q = qr[0];
      if (qr[1].signum() < 0) {
        q = q.subtract(BigInteger.ONE);
      }
      return q.longValueExact();
    }

    long ceil() {
      return -new Frac(num.negate(), den).floor();
    }
  }
}
