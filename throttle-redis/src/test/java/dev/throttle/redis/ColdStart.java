package dev.throttle.redis;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;

/**
 * A fresh application for {@link ColdStartTest}, in its own JVM (cold code, a first connection): connects with the
 * library's defaults, says whether Redis already holds the script, then asks for its first decision and prints it
 * with the limiter's counts. Argument: the Redis URI.
 */
public final class ColdStart {

  private ColdStart() {}

  public static void main(String[] args) {
    try (RedisLimits redis = RedisLimits.connect(args[0])) {
      RedisClient client = RedisClient.create(args[0]);
      try (StatefulRedisConnection<String, String> raw = client.connect()) {
        System.out.println("script loaded before the first decision: " + raw.sync().scriptExists(BucketScript.SHA));
      } finally {
        client.shutdown();
      }
      RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("10/min")).build(); // every default
      Decision first = limiter.decideAsync("first-request", 1).join();
      RedisRateLimiter.Stats stats = limiter.stats();
      System.out.println("decision: " + first);
      System.out.println("from redis: " + stats.fromRedis() + ", degraded: " + stats.degraded());
    }
  }
}
