package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A master found through a Redis Sentinel URI. */
class SentinelTest {

  @Test
  void decidesOnTheMasterTheSentinelNames() {
    try (RedisServer master = RedisServer.start();
        RedisServer sentinel = RedisServer.sentinel(master, "throttle-master");
        RedisLimits redis = RedisLimits.connect("redis-sentinel://127.0.0.1:" + sentinel.port() + "#throttle-master")) {
      assertThat(redis.isConnected()).isTrue();
      assertThat(redis.toString()).contains("Sentinel master 'throttle-master'");
      RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("5/min")).timeout(Duration.ofSeconds(5)).build();
      assertThat(limiter.decideAsync("k", 5).join()).isEqualTo(Decision.allowed(0, 60_000_000_000L));
      assertThat(limiter.decideAsync("k", 1).join().isAllowed()).isFalse();
      assertThat(limiter.stats().fromRedis()).isEqualTo(2);
      assertThat(master.cli("KEYS", "throttle:*")).isEqualTo("throttle:{k}:5/min");
    }
  }
}
