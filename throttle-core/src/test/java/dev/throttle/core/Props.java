package dev.throttle.core;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Property checks: each property runs over many generated cases, and a failure names the case's seed so that it can
 * be replayed ({@link #replay}). The base seed is fixed for repeatable builds; {@code -Dthrottle.seed=N} explores
 * others.
 *
 * <p>Other modules use it from the core test jar ({@code <type>test-jar</type>}, test scope).
 *
 * <p>Why not jqwik: from version 1.10 jqwik asks not to be used by AI coding agents at all, and parts of this code
 * base are written by one; this small runner (no shrinking, seeded {@link SplittableRandom}) does what our
 * properties need.
 */
public final class Props {

  public static final long BASE_SEED = Long.getLong("throttle.seed", 20261123L);

  private Props() {}

  /** Runs {@code property} for {@code cases} generated cases. */
  public static void forAll(String name, int cases, Consumer<SplittableRandom> property) {
    for (int i = 0; i < cases; i++) {
      long seed = seed(name, i);
      try {
        property.accept(new SplittableRandom(seed));
      } catch (Throwable e) {
        throw new AssertionError("property '" + name + "' failed on case " + i + " (replay with Props.replay(" + seed
            + "L, ...); base seed " + BASE_SEED + "): " + e.getMessage(), e);
      }
    }
  }

  /** Runs one case again, by the seed a failure printed. */
  public static void replay(long seed, Consumer<SplittableRandom> property) {
    property.accept(new SplittableRandom(seed));
  }

  private static long seed(String name, int i) {
    long h = BASE_SEED ^ name.hashCode() * 0x9E3779B97F4A7C15L;
    return h + i * 0xBF58476D1CE4E5B9L;
  }

  // ---- generators ----

  private static final long[] UNITS = {Bandwidth.MS, Bandwidth.SECOND, Bandwidth.MINUTE, Bandwidth.HOUR, Bandwidth.DAY};

  /**
   * A valid bucket whose rate lies between {@code minPerSecond} and {@code maxPerSecond} (roughly), with a random
   * period, burst, and sometimes interval refill.
   */
  public static Bandwidth bandwidth(SplittableRandom r, double minPerSecond, double maxPerSecond) {
    while (true) {
      long unit = UNITS[r.nextInt(UNITS.length)];
      long period = unit * (r.nextInt(4) == 0 ? 1 + r.nextInt(12) : 1);
      double perSecond = Math.exp(Math.log(minPerSecond) + r.nextDouble() * (Math.log(maxPerSecond) - Math.log(minPerSecond)));
      long amount = Math.max(1, Math.round(perSecond * period / 1e9));
      if (amount > period || amount * (double) Bandwidth.DAY < period) {
        continue;
      }
      long burst = switch (r.nextInt(3)) {
        case 0 -> amount;
        case 1 -> 1 + r.nextLong(Math.min(amount, 50));
        default -> 1 + r.nextLong(Math.min(amount * 3, 200));
      };
      long interval = 0;
      if (r.nextInt(4) == 0) {
        // m intervals per period, each adding amount/m tokens, each a whole number of milliseconds
        long m = 1 + r.nextInt(8);
        if (amount % m == 0 && period % m == 0 && (period / m) % Bandwidth.MS == 0) {
          interval = period / m;
          burst = Math.max(burst, amount / m);
        }
      }
      try {
        return Bandwidth.of(amount, period, burst, interval);
      } catch (IllegalArgumentException tooLarge) {
        // e.g. a burst too large to count exactly at this rate: draw again
      }
    }
  }

  /** A bucket with greedy (continuous) refill. */
  public static Bandwidth greedyBandwidth(SplittableRandom r, double minPerSecond, double maxPerSecond) {
    while (true) {
      Bandwidth b = bandwidth(r, minPerSecond, maxPerSecond);
      if (!b.isIntervalRefill()) {
        return b;
      }
    }
  }

  /** A limit of one bucket (usually) or two. */
  public static Limit limit(SplittableRandom r, double minPerSecond, double maxPerSecond) {
    Bandwidth first = bandwidth(r, minPerSecond, maxPerSecond);
    return r.nextInt(4) == 0 ? Limit.of(first, bandwidth(r, minPerSecond, maxPerSecond)) : Limit.of(first);
  }

  /** A step of time between requests: often 0, often about one token's time, sometimes long. */
  public static long step(SplittableRandom r, Limit limit) {
    Bandwidth b = limit.bandwidths().get(r.nextInt(limit.bandwidths().size()));
    long tokenTime = Math.max(1, b.periodNanos() / b.amount());
    return switch (r.nextInt(6)) {
      case 0, 1 -> 0;
      case 2 -> upTo(r, tokenTime / 3);
      case 3 -> upTo(r, 2 * tokenTime);
      case 4 -> b.isIntervalRefill() ? b.refillIntervalNanos() - r.nextLong(0, 2) : tokenTime;
      default -> upTo(r, Math.min(Long.MAX_VALUE / 4, BucketMath.saturatedMultiply(tokenTime, b.burst())));
    };
  }

  /** A number from 1 to {@code max} (1 when {@code max} is below 1). */
  public static long upTo(SplittableRandom r, long max) {
    return 1 + r.nextLong(Math.max(1, max));
  }

  public static long cost(SplittableRandom r, Limit limit) {
    long max = limit.burst();
    return r.nextInt(3) == 0 ? 1 + r.nextLong(max) : 1 + r.nextLong(Math.min(max, 3));
  }

  public static Duration nanos(long n) {
    return Duration.ofNanos(n);
  }
}
