package dev.throttle.redis;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The Lua script ({@code bucket.lua}, whose header explains the units and why every number stays exact) and one
 * limit compiled to its arguments. Immutable.
 *
 * <p>A limit is counted in microsecond credits: a greedy bucket {@code amount/period} becomes {@code a/p} tokens
 * per microsecond in lowest terms, an interval bucket {@code k} tokens every {@code I} microseconds. The script
 * stays exact while a bucket's capacity is at most {@link #MAX_CREDITS} credits and an empty bucket fills within
 * {@link #MAX_CREDITS} microseconds; other limits are refused here, with the largest burst that would fit.
 */
final class BucketScript {

  /** 2^51: capacities in credits and times to fill in microseconds stay at or below it. */
  static final long MAX_CREDITS = 1L << 51;

  static final String SOURCE = load();
  static final byte[] SOURCE_BYTES = SOURCE.getBytes(StandardCharsets.UTF_8);
  static final String SHA = sha1(SOURCE_BYTES);

  static final int DECIDE = 1;
  /** A decision that also answers Redis's time (for tests that compare times across processes). */
  static final int DECIDE_TIMED = 2;
  static final int RESERVE = 3;
  static final int CANCEL = 4;
  /** The decision a request would get, writing nothing. */
  static final int ESTIMATE = 5;
  /** Several decisions for one key, in order, in one call ({@link #manyArgs}). */
  static final int DECIDE_MANY = 6;

  static final int ALLOWED = 1;
  static final int RESERVED = 2;

  final int buckets;
  /** a, p, C, I of every bucket, as the little-endian doubles the script unpacks (all integers below 2^53). */
  private final double[] params;

  BucketScript(Limit limit) {
    List<Bandwidth> bandwidths = limit.bandwidths();
    this.buckets = bandwidths.size();
    this.params = new double[4 * buckets];
    for (int j = 0; j < buckets; j++) {
      long[] p = compile(limit, bandwidths.get(j));
      for (int i = 0; i < 4; i++) {
        params[4 * j + i] = p[i];
      }
    }
  }

  /** {a, p, C, I} of one bucket, or an exception naming the limit and the largest burst Redis can count exactly. */
  static long[] compile(Limit limit, Bandwidth b) {
    if (b.isIntervalRefill()) {
      long k = b.tokensPerInterval();
      long intervalMicros = b.refillIntervalNanos() / 1000;
      // An empty bucket fills in ceil(burst / k) intervals; that time must stay within 2^51 microseconds.
      long maxBurst = Math.min(MAX_CREDITS, MAX_CREDITS / intervalMicros * k);
      if (b.burst() > maxBurst) {
        throw tooLarge(limit, b, maxBurst);
      }
      return new long[] {k, 1, b.burst(), intervalMicros};
    }
    long periodMicros = b.periodNanos() / 1000;
    long g = BigInteger.valueOf(b.amount()).gcd(BigInteger.valueOf(periodMicros)).longValueExact();
    long a = b.amount() / g;
    long p = periodMicros / g;
    long maxBurst = MAX_CREDITS / p;
    if (b.burst() > maxBurst) {
      throw tooLarge(limit, b, maxBurst);
    }
    return new long[] {a, p, b.burst() * p, 0};
  }

  private static IllegalArgumentException tooLarge(Limit limit, Bandwidth b, long maxBurst) {
    return new IllegalArgumentException("the limit '" + limit + "' cannot be kept exactly on Redis: its bucket '" + b
        + "' has a burst of " + b.burst() + " tokens, and the largest burst Redis can count exactly at that rate"
        + " is " + maxBurst + " (the Lua script counts in doubles, exact below 2^53; see bucket.lua)");
  }

  /**
   * The arguments of a decision or a reservation: one argument, the numbers packed as little-endian doubles (every
   * one an integer below 2^53, so exact).
   *
   * @param nowMicros the time in microseconds, or a negative value for Redis {@code TIME}
   * @param maxWaitNanos for a reservation, the longest wait granted (at most about 73 years)
   */
  byte[][] args(int op, long cost, long nowMicros, long minTtlMillis, long maxWaitNanos) {
    return new byte[][] {numbers(op, cost, nowMicros, minTtlMillis, maxWaitNanos)};
  }

  private byte[] numbers(int op, long cost, long nowMicros, long minTtlMillis, long maxWaitNanos) {
    ByteBuffer b = ByteBuffer.allocate(8 * (6 + params.length)).order(ByteOrder.LITTLE_ENDIAN);
    b.putDouble(op).putDouble(cost).putDouble(nowMicros < 0 ? -1 : nowMicros).putDouble(minTtlMillis)
        .putDouble(maxWaitNanos / 1000).putDouble(maxWaitNanos % 1000);
    for (double p : params) {
      b.putDouble(p);
    }
    return b.array();
  }

  /**
   * The arguments of {@link #DECIDE_MANY}: the decisions of {@code costs}, in their order, each against the buckets
   * the ones before it left.
   */
  byte[][] manyArgs(long[] costs, int count, long nowMicros, long minTtlMillis) {
    ByteBuffer c = ByteBuffer.allocate(8 * count).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      c.putDouble(costs[i]);
    }
    return new byte[][] {numbers(DECIDE_MANY, count, nowMicros, minTtlMillis, 0), c.array()};
  }

  /** Reads the reply of {@link #DECIDE_MANY}: {@code count} decisions, each in the short or the long form. */
  Decision[] parseMany(List<?> reply, int count) {
    Decision[] out = new Decision[count];
    int i = 0;
    for (int d = 0; d < count; d++) {
      if (reply == null || i >= reply.size()) {
        throw new IllegalStateException("unexpected reply from the rate-limit script for " + count + " decisions: "
            + reply);
      }
      long flag = number(reply, i);
      if (flag < 10 && i + 4 <= reply.size()) {
        out[d] = decision((int) flag, number(reply, i + 1), number(reply, i + 2), number(reply, i + 3));
        i += 4;
      } else if (flag >= 10 && i + 7 <= reply.size()) {
        out[d] = decision((int) flag - 10, number(reply, i + 1), nanos(number(reply, i + 2), number(reply, i + 3)),
            nanos(number(reply, i + 4), number(reply, i + 5)));
        i += 7;
      } else {
        throw new IllegalStateException("unexpected reply from the rate-limit script for " + count + " decisions: "
            + reply);
      }
    }
    if (i != reply.size()) {
      throw new IllegalStateException("unexpected reply from the rate-limit script for " + count + " decisions: "
          + reply);
    }
    return out;
  }

  /** The arguments that give a reservation's tokens back if its keys still hold {@code after}. */
  byte[][] cancelArgs(long nowMicros, long minTtlMillis, byte[][] before, byte[][] after) {
    byte[][] all = new byte[1 + 2 * buckets][];
    all[0] = numbers(CANCEL, 1, nowMicros, minTtlMillis, 0);
    for (int j = 0; j < buckets; j++) {
      all[1 + 2 * j] = before[j];
      all[2 + 2 * j] = after[j];
    }
    return all;
  }

  /** What the script answered; {@code nowMicros} is -1 when the short reply was asked for. */
  record Result(int flag, Decision decision, long nowMicros, byte[][] before, byte[][] after) {}

  /** Reads the script's reply; throws {@link IllegalStateException} on anything else (the caller degrades). */
  Result parse(List<?> reply) {
    if (reply != null && reply.size() == 4) {
      int flag = (int) number(reply, 0);
      return new Result(flag, decision(flag, number(reply, 1), number(reply, 2), number(reply, 3)), -1, null, null);
    }
    if (reply == null || reply.size() < 7 || number(reply, 0) < 10) {
      throw new IllegalStateException("unexpected reply from the rate-limit script: " + reply);
    }
    int flag = (int) number(reply, 0) - 10;
    Decision decision = decision(flag, number(reply, 1), nanos(number(reply, 2), number(reply, 3)),
        nanos(number(reply, 4), number(reply, 5)));
    long now = number(reply, 6);
    byte[][] before = null;
    byte[][] after = null;
    if (flag == RESERVED) {
      if (reply.size() != 7 + 2 * buckets) {
        throw new IllegalStateException("unexpected reservation reply from the rate-limit script: " + reply);
      }
      before = new byte[buckets][];
      after = new byte[buckets][];
      for (int j = 0; j < buckets; j++) {
        before[j] = bytes(reply.get(7 + 2 * j));
        after[j] = bytes(reply.get(8 + 2 * j));
      }
    }
    return new Result(flag, decision, now, before, after);
  }

  private static Decision decision(int flag, long remaining, long waitNanos, long resetNanos) {
    return flag == ALLOWED
        ? Decision.allowed(remaining, resetNanos)
        : Decision.refused(remaining, waitNanos, resetNanos);
  }

  /** Microseconds and extra nanoseconds to nanoseconds, saturating (waits beyond 292 years are all the same). */
  static long nanos(long micros, long extraNanos) {
    if (micros >= (Long.MAX_VALUE - 1000) / 1000) {
      return Long.MAX_VALUE / 2;
    }
    return micros * 1000 + extraNanos;
  }

  private static long number(List<?> reply, int i) {
    Object o = reply.get(i);
    if (o instanceof Long l) {
      return l;
    }
    throw new IllegalStateException("unexpected value " + o + " at " + i + " in the rate-limit script's reply " + reply);
  }

  private static byte[] bytes(Object o) {
    if (o instanceof byte[] b) {
      return b;
    }
    throw new IllegalStateException("unexpected state " + o + " in the rate-limit script's reply");
  }

  private static String load() {
    try (InputStream in = BucketScript.class.getResourceAsStream("bucket.lua")) {
      if (in == null) {
        throw new IllegalStateException("bucket.lua is missing from the throttle-redis jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required of every Java platform", e);
    }
  }
}
