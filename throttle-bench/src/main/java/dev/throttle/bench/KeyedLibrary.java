package dev.throttle.bench;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.LocalKeyedRateLimiter;
import dev.throttle.core.Limit;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.Locale;

/**
 * Per-key limiters: Throttle's {@link KeyedRateLimiter}, and Bucket4j's and Guava's limiters held in a Caffeine
 * cache, as their users do (neither library has a per-key limiter of its own). The cache forgets a key once its
 * bucket would be full again ({@code expireAfterAccess(time to full)}), which is what Throttle does by itself, and
 * both hold at most {@value #MAX_KEYS} keys.
 */
enum KeyedLibrary {

  THROTTLE("throttle") {
    @Override
    KeyedContender create(long perMinute, long burst) {
      LocalKeyedRateLimiter<Long> limiter =
          KeyedRateLimiter.<Long>builder(Limit.parse(perMinute + "/min burst " + burst))
              .maxKeys(MAX_KEYS)
              .build();
      return new KeyedContender() {
        @Override
        public boolean tryAcquire(Long key) {
          return limiter.tryAcquire(key, 1);
        }

        @Override
        public long size() {
          return limiter.size();
        }
      };
    }
  },

  BUCKET4J_CAFFEINE("bucket4j+caffeine") {
    @Override
    KeyedContender create(long perMinute, long burst) {
      Bandwidth limit = Bandwidth.builder().capacity(burst).refillGreedy(perMinute, Duration.ofMinutes(1)).build();
      Cache<Long, Bucket> buckets = cache(perMinute, burst);
      return new KeyedContender() {
        @Override
        public boolean tryAcquire(Long key) {
          return buckets.get(key, k -> Bucket.builder().addLimit(limit).build()).tryConsume(1);
        }

        @Override
        public long size() {
          buckets.cleanUp();
          return buckets.estimatedSize();
        }
      };
    }
  },

  GUAVA_CAFFEINE("guava+caffeine") {
    @Override
    KeyedContender create(long perMinute, long burst) {
      double perSecond = perMinute / 60.0;
      Cache<Long, com.google.common.util.concurrent.RateLimiter> limiters = cache(perMinute, burst);
      return new KeyedContender() {
        @Override
        public boolean tryAcquire(Long key) {
          return limiters.get(key, k -> com.google.common.util.concurrent.RateLimiter.create(perSecond)).tryAcquire();
        }

        @Override
        public long size() {
          limiters.cleanUp();
          return limiters.estimatedSize();
        }
      };
    }
  };

  /** The most keys any of them holds (above the 10^6 keys of the benchmarks, so that the bound never bites). */
  static final int MAX_KEYS = 2_000_000;

  final String id;

  KeyedLibrary(String id) {
    this.id = id;
  }

  /** A per-key limiter of {@code perMinute} per minute with burst {@code burst} for each key. */
  abstract KeyedContender create(long perMinute, long burst);

  static KeyedLibrary of(String id) {
    for (KeyedLibrary library : values()) {
      if (library.id.equals(id.toLowerCase(Locale.ROOT))) {
        return library;
      }
    }
    throw new IllegalArgumentException("unknown per-key library '" + id
        + "' (known: throttle, bucket4j+caffeine, guava+caffeine)");
  }

  private static <V> Cache<Long, V> cache(long perMinute, long burst) {
    Duration timeToFull = Duration.ofNanos(60_000_000_000L * burst / perMinute);
    return Caffeine.newBuilder().expireAfterAccess(timeToFull).maximumSize(MAX_KEYS).build();
  }

  /** A per-key limiter behind the calls the benchmarks make. */
  interface KeyedContender {
    boolean tryAcquire(Long key);

    /** The keys held now. */
    long size();
  }
}
