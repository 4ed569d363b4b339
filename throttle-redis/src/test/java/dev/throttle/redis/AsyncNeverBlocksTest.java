package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.Reservation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every async method of the Redis store, and {@code forKey(k).acquireAsync()}, returns to the calling thread before
 * Redis has answered: with Redis paused (CLIENT PAUSE from another connection) and a timeout far beyond the pause, each
 * call comes back with a future that is not done yet, and each future completes with Redis's answer once the pause
 * ends. A method that waited for the round trip could only return a completed future.
 */
class AsyncNeverBlocksTest {

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

  @Test
  void theCallingThreadReturnsBeforeAPausedRedisAnswers() {
    RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("10/s burst 5")).prefix("noblock:")
        .timeout(Duration.ofSeconds(30)).build();
    assertThat(limiter.decide("warm", 1).isAllowed()).isTrue(); // the script is loaded; Redis answers
    assertThat(server.cli("CLIENT", "PAUSE", "2000")).isEqualTo("OK");

    CompletableFuture<Decision> decided = limiter.decideAsync("k", 1);
    CompletableFuture<Boolean> tried = limiter.tryAcquireAsync("k");
    CompletableFuture<Decision> estimated = limiter.estimateAsync("k", 1);
    CompletableFuture<Long> available = limiter.availableAsync("k");
    CompletableFuture<Reservation> reserved = limiter.reserveAsync("k", 1, Duration.ZERO);
    CompletableFuture<Void> acquired = limiter.acquireAsync("k");
    CompletableFuture<Void> acquiredForKey = limiter.forKey("k").acquireAsync();

    List<CompletableFuture<?>> all = List.of(decided, tried, estimated, available, reserved, acquired,
        acquiredForKey);
    assertThat(all).as("returned while Redis is paused: nothing answered yet").allSatisfy(
        f -> assertThat(f).isNotDone());

    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
    assertThat(limiter.stats().degraded()).as("every answer came from Redis, after the pause").isZero();
    assertThat(decided.join().isAllowed()).isTrue();
    assertThat(tried.join()).isTrue();
    assertThat(reserved.join().isGranted()).isTrue();
    assertThat(limiter.stats().fromRedis()).isGreaterThanOrEqualTo(all.size() + 1);
  }
}
