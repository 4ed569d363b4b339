package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.RateLimiter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The distributed limiter on a real Redis and its own clock (TIME), and the checks of its configuration. */
class RedisRateLimiterTest {

  private static RedisServer server;
  private static RedisLimits redis;
  private static RedisClient rawClient;
  private static StatefulRedisConnection<byte[], byte[]> raw;
  private static RedisCommands<byte[], byte[]> cli;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
    redis = RedisLimits.connect(server.uri());
    rawClient = RedisClient.create(server.uri());
    raw = rawClient.connect(ByteArrayCodec.INSTANCE);
    cli = raw.sync();
  }

  @AfterAll
  static void stopRedis() {
    raw.close();
    rawClient.shutdown();
    redis.close();
    server.close();
  }

  private static List<String> keys(String pattern) {
    List<String> all = new ArrayList<>();
    for (byte[] k : cli.keys(pattern).toArray(new byte[0][])) {
      all.add(new String(k, StandardCharsets.ISO_8859_1));
    }
    all.sort(null);
    return all;
  }

  private static RedisRateLimiter.Builder<String> limiter(String limit) {
    return redis.limiter(Limit.parse(limit)).timeout(Duration.ofSeconds(5));
  }

  @Test
  void anEstimateWritesNothingInRedis() {
    ManualClock clock = new ManualClock(0, 20_000 * 86_400_000_000_000L);
    RedisRateLimiter<String> limiter = limiter("10/s burst 5").prefix("estimate:").clock(clock).scheduler(clock)
        .build();
    assertThat(limiter.estimateAsync("k", 5).join()).isEqualTo(Decision.allowed(0, 500_000_000));
    assertThat(limiter.availableAsync("k").join()).isEqualTo(5);
    assertThat(keys("estimate:*")).as("no key written for an estimate").isEmpty();
    assertThat(limiter.decideAsync("k", 3).join().isAllowed()).isTrue();
    byte[] state = cli.get("estimate:{k}:10/s_burst_5".getBytes(StandardCharsets.UTF_8));
    assertThat(limiter.estimateAsync("k", 3).join()).isEqualTo(Decision.refused(2, 100_000_000, 300_000_000));
    assertThat(cli.get("estimate:{k}:10/s_burst_5".getBytes(StandardCharsets.UTF_8))).isEqualTo(state);
    RateLimiter one = limiter.forKey("k");
    assertThat(one.available()).isEqualTo(2);
    assertThat(one.estimate(2)).isEqualTo(Decision.allowed(0, 500_000_000));
    assertThat(one.decide(2)).isEqualTo(Decision.allowed(0, 500_000_000));
    assertThat(one.available()).isZero();
  }

  @Test
  void eachBucketIsOneKeyThatExpiresWhenTheBucketIsFullAgain() {
    RedisRateLimiter<String> limiter = limiter("10/s burst 5 and 50/s burst 20").prefix("expiry:").build();
    assertThat(limiter.decideAsync("user", 3).join().isAllowed()).isTrue();
    assertThat(keys("expiry:*")).containsExactly("expiry:{user}:10/s_burst_5", "expiry:{user}:50/s_burst_20");
    // TTL = the time until that bucket is full again: 3 tokens at 10/s, 3 tokens at 50/s.
    long slow = cli.pttl("expiry:{user}:10/s_burst_5".getBytes(StandardCharsets.UTF_8));
    long fast = cli.pttl("expiry:{user}:50/s_burst_20".getBytes(StandardCharsets.UTF_8));
    assertThat(slow).isBetween(1L, 300L);
    assertThat(fast).isBetween(1L, 60L);
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5))
        .until(() -> keys("expiry:*").isEmpty());
    assertThat(limiter.decideAsync("user", 1).join()).as("a missing key is a full bucket").isEqualTo(
        Decision.allowed(4, 100_000_000));
  }

  @Test
  void callerKeysMayBeAnyBytesAndLongOnesAreHashed() {
    RedisRateLimiter<byte[]> limiter = limiter("1/min burst 1").prefix("bytes:").keys((byte[] k) -> k).build();
    byte[] binary = {0, (byte) 0xFF, '{', '}', '\r', '\n', ' ', 0};
    byte[] longKey = new byte[10_000];
    Arrays.fill(longKey, (byte) 'x');
    byte[] otherLongKey = longKey.clone();
    otherLongKey[9_999] = 'y';
    for (byte[] key : List.of(binary, longKey, otherLongKey, new byte[0])) {
      assertThat(limiter.tryAcquire(key, 1)).as("a fresh bucket for a key of %d bytes", key.length).isTrue();
      assertThat(limiter.tryAcquire(key, 1)).isFalse();
    }
    List<String> keys = keys("bytes:*");
    assertThat(keys).hasSize(4);
    assertThat(keys).allSatisfy(k -> assertThat(k.length()).isLessThanOrEqualTo("bytes:{}:1/min_burst_1".length() + 65));
    assertThat(keys.stream().filter(k -> k.startsWith("bytes:{#"))).hasSize(2);
  }

  @Test
  void allKeysOfOneDecisionShareAClusterSlotWhateverTheCallerKey() {
    Limit limit = Limit.parse("10/s and 100/min and 1000/h");
    Keys<String> keys = new Keys<>("p:", limit, RedisRateLimiter.Builder::utf8);
    List<String> callers = List.of("alice", "", "{", "}", "}x", "=", "=}", "a}b{c", "{x}", "x".repeat(100), "日本");
    List<String> seen = new ArrayList<>();
    for (String caller : callers) {
      byte[][] of = keys.of(caller);
      assertThat(of.length).isEqualTo(3);
      assertThat(Arrays.stream(of).mapToInt(SlotHash::getSlot).distinct().count()).as(caller).isEqualTo(1);
      seen.add(new String(of[0], StandardCharsets.UTF_8));
    }
    assertThat(seen).as("distinct callers, distinct keys").doesNotHaveDuplicates();
    assertThat(SlotHash.getSlot(keys.of("alice")[0])).isNotEqualTo(SlotHash.getSlot(keys.of("bob")[0]));
  }

  @Test
  void reloadsTheScriptWhenRedisHasLostIt() {
    RedisRateLimiter<String> limiter = limiter("100/min").prefix("noscript:").build();
    assertThat(limiter.decideAsync("k", 1).join().isAllowed()).isTrue();
    cli.scriptFlush();
    assertThat(limiter.decideAsync("k", 1).join().remaining()).isEqualTo(98);
    assertThat(limiter.decideAsync("k", 1).join().remaining()).isEqualTo(97);
    assertThat(limiter.stats().fromRedis()).isEqualTo(3);
    assertThat(limiter.stats().degraded()).isZero();
  }

  @Test
  void limitersWithTheSamePrefixAndLimitShareTheirBuckets() {
    // Two connections, as two servers would have; one global key through the core's RateLimiter interface.
    try (RedisLimits other = RedisLimits.connect(server.uri())) {
      RateLimiter a = limiter("5/min").prefix("shared:").build().forKey("global");
      RateLimiter b = other.limiter(Limit.parse("5/min")).prefix("shared:").timeout(Duration.ofSeconds(5)).build()
          .forKey("global");
      assertThat(a.tryAcquire(3)).isTrue();
      assertThat(b.tryAcquire(2)).isTrue();
      assertThat(a.tryAcquire()).isFalse();
      Decision d = b.decide(1);
      assertThat(d.isAllowed()).isFalse();
      assertThat(d.waitTime()).isBetween(Duration.ofSeconds(11), Duration.ofSeconds(12));
      RateLimiter differentPrefix = limiter("5/min").prefix("other:").build().forKey("global");
      assertThat(differentPrefix.tryAcquire(5)).isTrue();
    }
  }

  @Test
  void waitingIsNotFasterThanTheRate() throws InterruptedException {
    RateLimiter limiter = limiter("20/s burst 1").prefix("wait:").build().forKey("k");
    long start = System.nanoTime();
    for (int i = 0; i < 5; i++) {
      limiter.acquire();
    }
    // The first is at once, each of the next four waits for one token: 50 ms each, on Redis's clock.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(199));
  }

  @Test
  void asyncAcquiresCompleteInOrderNotFasterThanTheRate() {
    RedisRateLimiter<String> limiter = limiter("100/s burst 1").prefix("async:").build();
    long start = System.nanoTime();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    long[] done = new long[10];
    for (int i = 0; i < 10; i++) {
      int n = i;
      all.add(limiter.acquireAsync("k", 1).thenRun(() -> done[n] = System.nanoTime()));
    }
    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
    assertThat(Duration.ofNanos(done[9] - start)).isGreaterThanOrEqualTo(Duration.ofMillis(89));
  }

  @Test
  void cancellingAnAsyncAcquireGivesItsPlaceBack() {
    RedisRateLimiter<String> limiter = limiter("1/min burst 1").prefix("cancel:").build();
    assertThat(limiter.tryAcquire("k", 1)).isTrue();
    CompletableFuture<Void> waiting = limiter.acquireAsync("k", 1);
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5))
        .until(() -> limiter.decideAsync("k", 1).join().waitTime().compareTo(Duration.ofSeconds(61)) > 0);
    assertThat(waiting.cancel(false)).isTrue();
    assertThat(waiting).isCancelled();
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5))
        .until(() -> limiter.decideAsync("k", 1).join().waitTime().compareTo(Duration.ofSeconds(60)) <= 0);
  }

  @Test
  void theLocalShortCircuitRefusesWithoutARoundTripUntilTheWaitHasPassed() {
    ManualClock clock = new ManualClock();
    RedisRateLimiter<String> limiter = limiter("10/s burst 5").prefix("short:").clock(clock).scheduler(clock)
        .localShortCircuit(true).build();
    assertThat(limiter.decideAsync("k", 5).join().isAllowed()).isTrue();
    Decision refused = limiter.decideAsync("k", 3).join();
    assertThat(refused).isEqualTo(Decision.refused(0, 300_000_000, 500_000_000));
    assertThat(limiter.stats().fromRedis()).isEqualTo(2);
    clock.advanceNanos(100_000_000);
    assertThat(limiter.decideAsync("k", 4).join()).as("the same refusal, counted down, for that cost or more")
        .isEqualTo(Decision.refused(0, 200_000_000, 400_000_000));
    assertThat(limiter.stats().shortCircuited()).isEqualTo(1);
    assertThat(limiter.stats().fromRedis()).isEqualTo(2);
    assertThat(limiter.decideAsync("k", 1).join()).as("a smaller cost may pass sooner: Redis decides")
        .isEqualTo(Decision.allowed(0, 500_000_000));
    assertThat(limiter.stats().fromRedis()).isEqualTo(3);
    clock.advanceNanos(200_000_000);
    assertThat(limiter.decideAsync("k", 3).join().isAllowed()).as("after the wait, Redis again").isFalse();
    assertThat(limiter.stats().fromRedis()).isEqualTo(4);
    assertThat(limiter.reserveAsync("k", 3, Duration.ofSeconds(1)).join().isGranted()).isTrue();
  }

  @Test
  void badConfigurationFailsAtOnceSayingWhy() {
    assertThatThrownBy(() -> limiter("10/s").prefix("a{b}:")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a{b}:'").hasMessageContaining("hash tag");
    assertThatThrownBy(() -> limiter("10/s").timeout(Duration.ZERO)).hasMessageContaining("positive");
    assertThatThrownBy(() -> limiter("10/s").circuit(0, Duration.ofSeconds(1))).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> limiter("1/day burst 100000 every 1day").build())
        .hasMessageContaining("cannot be kept exactly on Redis").hasMessageContaining("26062");
    assertThatThrownBy(() -> FailurePolicy.localShare(0)).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> limiter("1/day").onFailure(FailurePolicy.localShare(3)).build())
        .hasMessageContaining("cannot share the limit '1/day' among 3");
    assertThatThrownBy(() -> RedisLimits.connect("http://localhost:6379"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'http://localhost:6379'")
        .hasMessageContaining("redis-cluster://");
    assertThatThrownBy(() -> RedisLimits.connect("redis-cluster://a:1,b:2/3"))
        .hasMessageContaining("a cluster has no database");
    assertThat(FailurePolicy.share(Limit.parse("100/s burst 10 and 4/s every 250ms"), 4))
        .isEqualTo(Limit.parse("100/4s burst 3 and 4/4s burst 1 every 1s"));
  }
}
