package dev.throttle.bench;

import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process limiters compared, each built the way its own documentation shows for "{@code n} per second",
 * with the same rate and, where the library lets one choose it, the same burst. Each benchmark builds them through
 * here, so that every section compares the same configurations.
 */
enum Library {

  /** Throttle's {@link RateLimiter}: {@code n/s burst b}. */
  THROTTLE("throttle") {
    @Override
    Contender create(long perSecond, long burst, boolean blocking) {
      RateLimiter limiter = RateLimiter.of(Limit.parse(perSecond + "/s burst " + burst));
      return new Contender("RateLimiter.of(Limit.parse(\"" + limiter.limit() + "\"))", burst) {
        @Override
        boolean tryAcquire() {
          return limiter.tryAcquire();
        }

        @Override
        void acquire() throws InterruptedException {
          limiter.acquire();
        }
      };
    }
  },

  /**
   * Bucket4j's local bucket as its builder makes it by default: lock-free (compare-and-set on an immutable state),
   * millisecond clock, greedy refill of {@code n} per second, capacity {@code b}.
   */
  BUCKET4J("bucket4j") {
    @Override
    Contender create(long perSecond, long burst, boolean blocking) {
      Bucket bucket = Bucket.builder()
          .addLimit(limit -> limit.capacity(burst).refillGreedy(perSecond, Duration.ofSeconds(1)))
          .build();
      String config = "Bucket.builder().addLimit(capacity(" + burst + ").refillGreedy(" + perSecond + ", 1s))";
      return new Contender(config + " (lock-free)", burst) {
        @Override
        boolean tryAcquire() {
          return bucket.tryConsume(1);
        }

        @Override
        void acquire() throws InterruptedException {
          bucket.asBlocking().consume(1);
        }
      };
    }
  },

  /**
   * Guava's {@code RateLimiter.create(n)} (smooth bursty): one permit every {@code 1/n} s; it stores at most one
   * second of unused permits ({@code n}) and starts with none. The burst cannot be chosen.
   */
  GUAVA("guava") {
    @Override
    Contender create(long perSecond, long burst, boolean blocking) {
      com.google.common.util.concurrent.RateLimiter limiter =
          com.google.common.util.concurrent.RateLimiter.create(perSecond);
      return new Contender("RateLimiter.create(" + perSecond + ")", perSecond) {
        @Override
        boolean tryAcquire() {
          return limiter.tryAcquire();
        }

        @Override
        void acquire() {
          limiter.acquire();
        }
      };
    }
  },

  /**
   * Resilience4j's {@link AtomicRateLimiter} (the default implementation): {@code limitForPeriod} permits at the
   * start of each {@code limitRefreshPeriod}. Burst {@code b} and rate {@code n} give {@code b} permits every
   * {@code b/n} seconds. Timeout 0 for {@link Contender#tryAcquire()}, one minute for a blocking acquire.
   */
  RESILIENCE4J("resilience4j") {
    @Override
    Contender create(long perSecond, long burst, boolean blocking) {
      Duration period = Duration.ofNanos(1_000_000_000L * burst / perSecond);
      RateLimiterConfig config = RateLimiterConfig.custom()
          .limitForPeriod(Math.toIntExact(burst))
          .limitRefreshPeriod(period)
          .timeoutDuration(blocking ? Duration.ofMinutes(1) : Duration.ZERO)
          .build();
      AtomicRateLimiter limiter = new AtomicRateLimiter("bench", config);
      String described = "AtomicRateLimiter(limitForPeriod " + burst + ", limitRefreshPeriod " + period + ")";
      return new Contender(described, burst) {
        @Override
        boolean tryAcquire() {
          return limiter.acquirePermission(1);
        }

        @Override
        void acquire() {
          if (!limiter.acquirePermission(1)) {
            throw new IllegalStateException("Resilience4j refused a blocking acquire after its 1 min timeout");
          }
        }
      };
    }
  },

  /** Failsafe's smooth {@code RateLimiter}: one permit every {@code 1/n} s, no burst (its bursty kind is R4j's). */
  FAILSAFE("failsafe") {
    @Override
    Contender create(long perSecond, long burst, boolean blocking) {
      dev.failsafe.RateLimiter<Object> limiter =
          dev.failsafe.RateLimiter.smoothBuilder(perSecond, Duration.ofSeconds(1)).build();
      return new Contender("RateLimiter.smoothBuilder(" + perSecond + ", 1s)", 1) {
        @Override
        boolean tryAcquire() {
          return limiter.tryAcquirePermit();
        }

        @Override
        void acquire() throws InterruptedException {
          limiter.acquirePermit();
        }
      };
    }
  },

  /**
   * Not a limiter: the least any exact in-process limiter must do per call, one {@link System#nanoTime()} and one
   * {@code compareAndSet} on an {@link AtomicLong}. Only for {@link Contender#tryAcquire()}.
   */
  FLOOR("floor") {
    @Override
    Contender create(long perSecond, long burst, boolean blocking) {
      AtomicLong state = new AtomicLong();
      return new Contender("System.nanoTime() + AtomicLong.compareAndSet", 0) {
        @Override
        boolean tryAcquire() {
          long now = System.nanoTime();
          long previous = state.get();
          return state.compareAndSet(previous, now);
        }

        @Override
        void acquire() {
          throw new UnsupportedOperationException("the floor is not a limiter");
        }
      };
    }
  };

  /** The libraries that are limiters (all but {@link #FLOOR}), Throttle first. */
  static final Library[] LIMITERS = {THROTTLE, BUCKET4J, GUAVA, RESILIENCE4J, FAILSAFE};

  final String id;

  Library(String id) {
    this.id = id;
  }

  /**
   * A limiter of {@code perSecond} per second and burst {@code burst} (where the library has one); {@code blocking}
   * when it will be used with {@link Contender#acquire()} (only Resilience4j configures a timeout for that).
   */
  abstract Contender create(long perSecond, long burst, boolean blocking);

  static Library of(String id) {
    for (Library library : values()) {
      if (library.id.equals(id.toLowerCase(Locale.ROOT))) {
        return library;
      }
    }
    throw new IllegalArgumentException("unknown library '" + id + "' (known: throttle, bucket4j, guava, "
        + "resilience4j, failsafe, floor)");
  }

  /** One limiter, behind the two calls the benchmarks make, with how it was built. */
  abstract static class Contender {
    private final String config;
    private final long burst;

    Contender(String config, long burst) {
      this.config = config;
      this.burst = burst;
    }

    /** Takes one permit if available now; never waits. */
    abstract boolean tryAcquire();

    /** Takes one permit, waiting as long as needed. */
    abstract void acquire() throws InterruptedException;

    /** How the limiter was built, for the report. */
    String config() {
      return config;
    }

    /** The most permits it lets through at once after idling (its burst as configured). */
    long burst() {
      return burst;
    }
  }
}
