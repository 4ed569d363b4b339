package dev.throttle.redis;

import dev.throttle.core.Limit;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A separate process for {@link MultiProcessTest}: from a wall-clock start time, asks for one token on one key
 * with several calls in flight for a while, then prints the Redis time (microseconds) of every grant, and the
 * number of failed calls.
 *
 * <p>Arguments: uri prefix limit key startAtMillis durationMillis inflight.
 */
public final class Hammer {

  private Hammer() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String prefix = args[1];
    Limit limit = Limit.parse(args[2]);
    String key = args[3];
    long startAt = Long.parseLong(args[4]);
    long duration = Long.parseLong(args[5]);
    int inflight = Integer.parseInt(args[6]);
    ConcurrentLinkedQueue<Long> grants = new ConcurrentLinkedQueue<>();
    AtomicLong failures = new AtomicLong();
    try (RedisLimits redis = RedisLimits.connect(uri)) {
      LuaRateLimiter<String> limiter = (LuaRateLimiter<String>) redis.limiter(limit).prefix(prefix)
          .timeout(Duration.ofSeconds(5)).build();
      long wait = startAt - System.currentTimeMillis();
      if (wait > 0) {
        Thread.sleep(wait); // all processes start together; this is the test's clock, not a synchronisation
      }
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(duration);
      CountDownLatch done = new CountDownLatch(inflight);
      for (int i = 0; i < inflight; i++) {
        ask(limiter, key, end, grants, failures, done);
      }
      done.await();
    }
    StringBuilder out = new StringBuilder();
    for (long t : grants) {
      out.append("grant ").append(t).append('\n');
    }
    out.append("failures ").append(failures.get()).append('\n');
    System.out.print(out);
    System.out.flush();
  }

  private static void ask(LuaRateLimiter<String> limiter, String key, long end, ConcurrentLinkedQueue<Long> grants,
      AtomicLong failures, CountDownLatch done) {
    if (System.nanoTime() - end > 0) {
      done.countDown();
      return;
    }
    limiter.decideInRedis(key, 1, true).whenComplete((result, failure) -> {
      if (failure != null) {
        failures.incrementAndGet();
        done.countDown(); // stop this caller: the test fails on any failure anyway
        return;
      }
      if (result.decision().isAllowed()) {
        grants.add(result.nowMicros());
      }
      ask(limiter, key, end, grants, failures, done);
    });
  }
}
