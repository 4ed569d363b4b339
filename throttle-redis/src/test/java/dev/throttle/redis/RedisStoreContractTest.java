package dev.throttle.redis;

import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.KeyedRateLimiterContract;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The core's keyed-limiter contract against Redis, through the sync methods ({@code RedisStoreAsyncContractTest}: the
 * async ones): the same tests as the in-process store, through the whole Java path
 * (keys, EVALSHA, parsing, reservations), with the test's manual clock passed to the script instead of Redis TIME.
 */
class RedisStoreContractTest extends KeyedRateLimiterContract {

  private static final AtomicInteger stores = new AtomicInteger();
  private static RedisServer server;
  private static RedisLimits redis;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
    redis = RedisLimits.connect(server.uri());
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
    server.close();
  }

  @Override
  protected KeyedRateLimiter<String> newStore(Limit limit, ManualClock clock) {
    return redis.limiter(limit)
        .prefix("contract:" + stores.incrementAndGet() + ":")
        .clock(clock)
        .scheduler(clock)
        .timeout(Duration.ofSeconds(10)) // a loaded machine must not turn a slow answer into a degraded one
        .build();
  }

  @Override
  protected boolean async() {
    return false;
  }

  /** Waiting reservations live in other processes: a cancelled one cannot move them up. */
  @Override
  protected KeyedRateLimiter.Cancellation promisedCancellation() {
    return KeyedRateLimiter.Cancellation.IF_LAST;
  }
}
