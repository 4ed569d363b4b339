package dev.throttle.bench.redis;

import dev.throttle.core.Limit;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one decision costs inside Redis: 64 closed-loop callers over 10,000 keys (the Redis section's spread case)
 * for a given time, then Redis's own {@code INFO commandstats} for {@code EVALSHA}: calls, microseconds per call,
 * decisions per call and microseconds per decision. Use it on a server of its own (it resets the server's stats).
 *
 * <pre>
 * redis-server --port 7777 --save '' --daemonize yes
 * java -cp throttle-bench/target/benchmarks.jar dev.throttle.bench.redis.RedisCostPerDecision redis://127.0.0.1:7777 8
 * </pre>
 */
public final class RedisCostPerDecision {

  private RedisCostPerDecision() {}

  public static void main(String[] args) throws Exception {
    String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 8;
    try (RedisLimits redis = RedisLimits.connect(uri)) {
      RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("100000000/s")).prefix("cost:")
          .timeout(Duration.ofSeconds(2)).build();
      String[] keys = new String[10_000];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = "user" + i;
      }
      run(limiter, keys, 3); // warm-up
      RedisClient client = RedisClient.create(uri);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        c.sync().configResetstat();
        long decisions = run(limiter, keys, seconds);
        Matcher m = Pattern.compile("cmdstat_evalsha:calls=(\\d+),usec=(\\d+)").matcher(c.sync().info("commandstats"));
        if (!m.find()) {
          throw new IllegalStateException("no EVALSHA in INFO commandstats");
        }
        long calls = Long.parseLong(m.group(1));
        long usec = Long.parseLong(m.group(2));
        System.out.printf(java.util.Locale.ROOT, "%.0f decisions/s; %d script calls (%.1f decisions a call), %.1f us"
            + " a call, %.2f us a decision inside Redis, %.0f %% of a core for the scripts%n", decisions / seconds,
            calls, (double) decisions / calls, (double) usec / calls, (double) usec / decisions,
            usec / (seconds * 1e6) * 100);
      } finally {
        client.shutdown();
      }
    }
  }

  private static long run(RedisRateLimiter<String> limiter, String[] keys, double seconds) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    LongAdder n = new LongAdder();
    CountDownLatch done = new CountDownLatch(64);
    for (int c = 0; c < 64; c++) {
      ask(limiter, keys, end, n, done);
    }
    done.await();
    return n.sum();
  }

  private static void ask(RedisRateLimiter<String> limiter, String[] keys, long end, LongAdder n,
      CountDownLatch done) {
    if (System.nanoTime() - end > 0) {
      done.countDown();
      return;
    }
    limiter.decideAsync(keys[ThreadLocalRandom.current().nextInt(keys.length)], 1).whenComplete((d, e) -> {
      n.increment();
      ask(limiter, keys, end, n, done);
    });
  }
}
