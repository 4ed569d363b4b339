package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Redis killed mid-load and restarted, paused, and absent from the start: each failure policy answers as stated,
 * no call waits (much) longer than the timeout, no exception reaches the caller, and decisions return to Redis
 * when it is back. Wall time is unavoidable here (a real server dies); the bounds are loose enough for a loaded
 * 2-core machine and still far below what waiting for Redis would take.
 */
class FaultsTest {

  private static final Duration TIMEOUT = Duration.ofMillis(100);
  private static final Duration CIRCUIT_OPEN = Duration.ofMillis(200);
  /** Timeout plus scheduling slack: a call waiting for a paused Redis would take seconds. */
  private static final Duration LONGEST_CALL = TIMEOUT.plusMillis(400);
  /**
   * For a Redis paused 3 s: a call that waited for it would take 1.8 s or more (the calls are made in its first
   * 1.2 s), so a second of scheduling slack on a loaded machine still tells the two apart.
   */
  private static final Duration LONGEST_CALL_WHILE_PAUSED = TIMEOUT.plusMillis(900);

  private final List<AutoCloseable> closeLater = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = closeLater.size() - 1; i >= 0; i--) {
      closeLater.get(i).close();
    }
  }

  private <T extends AutoCloseable> T later(T resource) {
    closeLater.add(resource);
    return resource;
  }

  private static FailurePolicy policy(String name) {
    return switch (name) {
      case "fail-open" -> FailurePolicy.failOpen();
      case "fail-closed" -> FailurePolicy.failClosed();
      case "local" -> FailurePolicy.localShare(2);
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static RedisRateLimiter<String> limiter(RedisLimits redis, String policy) {
    return redis.limiter(Limit.parse("50/s burst 50")).prefix("faults:" + policy + ":").timeout(TIMEOUT)
        .circuit(3, CIRCUIT_OPEN).onFailure(policy(policy)).build();
  }

  /** One timed call; anything thrown is recorded rather than lost. */
  private record Call(long start, long end, Decision decision, Throwable thrown) {}

  private static Call call(RedisRateLimiter<String> limiter, String key) {
    long start = System.nanoTime();
    try {
      Decision d = limiter.decideAsync(key, 1).join();
      return new Call(start, System.nanoTime(), d, null);
    } catch (Throwable t) {
      return new Call(start, System.nanoTime(), null, t);
    }
  }

  private static void assertDegradedAsThePolicySays(String policy, List<Call> degraded) {
    assertThat(degraded).isNotEmpty();
    switch (policy) {
      case "fail-open" -> assertThat(degraded).allSatisfy(c -> assertThat(c.decision().isAllowed()).isTrue());
      case "fail-closed" -> assertThat(degraded).allSatisfy(c -> assertThat(c.decision())
          .isEqualTo(Decision.refused(0, CIRCUIT_OPEN.toNanos(), CIRCUIT_OPEN.toNanos())));
      default -> {
        // Half the limit in process: 25/s burst 25 for the key; the window bound of that local limit holds.
        long allowed = degraded.stream().filter(c -> c.decision().isAllowed()).count();
        long span = degraded.get(degraded.size() - 1).end() - degraded.get(0).start();
        assertThat(allowed).isGreaterThan(0).isLessThanOrEqualTo(25 + 25 * span / 1_000_000_000L + 1);
        assertThat(degraded).anySatisfy(c -> assertThat(c.decision().isAllowed()).isFalse());
      }
    }
  }

  private static void assertReturnsToRedis(RedisRateLimiter<String> limiter) {
    awaitRedis(limiter);
    assertDecidedByRedis(limiter);
  }

  private static void awaitRedis(RedisRateLimiter<String> limiter) {
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(20)).until(() -> {
      long before = limiter.stats().fromRedis();
      call(limiter, "probe");
      return limiter.stats().fromRedis() > before;
    });
  }

  /** With nothing else calling: the next ten decisions are Redis's. */
  private static void assertDecidedByRedis(RedisRateLimiter<String> limiter) {
    RedisRateLimiter.Stats before = limiter.stats();
    for (int i = 0; i < 10; i++) {
      assertThat(call(limiter, "after").decision().isAllowed()).isTrue();
    }
    RedisRateLimiter.Stats after = limiter.stats();
    assertThat(after.fromRedis() - before.fromRedis()).as("decided by Redis again").isEqualTo(10);
    assertThat(after.degraded()).isEqualTo(before.degraded());
    assertThat(after.circuitIsOpen()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"fail-open", "fail-closed", "local"})
  void redisKilledMidLoadAndRestarted(String policy) throws Exception {
    RedisServer server = later(RedisServer.start());
    RedisLimits redis = later(RedisLimits.connect(server.uri()));
    RedisRateLimiter<String> limiter = limiter(redis, policy);
    awaitRedis(limiter); // the first call loads the script, and may miss the short timeout on a loaded machine

    ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService load = Executors.newFixedThreadPool(3);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 3; w++) {
      workers.add(load.submit(() -> {
        for (int i = 0; i < 200_000 && running.get(); i++) {
          calls.add(call(limiter, "k"));
        }
      }));
    }
    try {
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> calls.size() > 100);
      server.kill();
      long killed = System.nanoTime();
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10))
          .until(() -> limiter.stats().circuitOpen() > 10 && System.nanoTime() - killed > 800_000_000L);
      long restarting = System.nanoTime();
      server.restart();
      awaitRedis(limiter);
      running.set(false);
      for (Future<?> f : workers) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertDecidedByRedis(limiter);
      List<Call> all = new ArrayList<>(calls);
      assertThat(all).allSatisfy(c -> assertThat(c.thrown()).as("nothing thrown").isNull());
      assertThat(all).allSatisfy(c -> assertThat(Duration.ofNanos(c.end() - c.start()))
          .as("no call waits for a dead Redis").isLessThanOrEqualTo(LONGEST_CALL));
      List<Call> degraded = all.stream().filter(c -> c.start() > killed && c.end() < restarting)
          .sorted((a, b) -> Long.compare(a.start(), b.start())).toList();
      assertDegradedAsThePolicySays(policy, degraded);
      RedisRateLimiter.Stats stats = limiter.stats();
      assertThat(stats.errors()).as("the dead connection's failures").isPositive();
      assertThat(stats.circuitOpen()).as("the circuit stopped asking a dead Redis").isPositive();
      assertThat(stats.degraded()).isEqualTo(stats.timeouts() + stats.errors() + stats.circuitOpen());
    } finally {
      running.set(false);
      load.shutdownNow();
      assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"CLIENT PAUSE", "DEBUG SLEEP"})
  void aPausedRedisIsGivenUpAfterTheTimeout(String how) throws Exception {
    RedisServer server = later(RedisServer.start("--enable-debug-command", "yes"));
    RedisLimits redis = later(RedisLimits.connect(server.uri()));
    String policy = how.equals("CLIENT PAUSE") ? "fail-closed" : "fail-open";
    RedisRateLimiter<String> limiter = limiter(redis, policy);
    awaitRedis(limiter); // the first call loads the script, and may miss the short timeout on a loaded machine
    ExecutorService cli = Executors.newSingleThreadExecutor();
    try {
      long paused = System.nanoTime();
      Future<String> pause = how.equals("CLIENT PAUSE")
          ? cli.submit(() -> server.cli("CLIENT", "PAUSE", "3000"))
          : cli.submit(() -> server.cli("DEBUG", "SLEEP", "3"));
      if (how.equals("CLIENT PAUSE")) {
        assertThat(pause.get(10, TimeUnit.SECONDS)).isEqualTo("OK");
      }
      List<Call> during = new ArrayList<>();
      while (System.nanoTime() - paused < 1_200_000_000L) {
        during.add(call(limiter, "k"));
      }
      assertThat(during).allSatisfy(c -> {
        assertThat(c.thrown()).isNull();
        assertThat(Duration.ofNanos(c.end() - c.start())).isLessThanOrEqualTo(LONGEST_CALL_WHILE_PAUSED);
      });
      List<Call> degraded = during.stream().filter(c -> c.start() - paused > 50_000_000L).toList();
      assertDegradedAsThePolicySays(policy, degraded);
      assertThat(limiter.stats().timeouts()).isPositive();
      assertThat(limiter.stats().circuitOpen()).isPositive();
      pause.get(10, TimeUnit.SECONDS);
      assertReturnsToRedis(limiter);
    } finally {
      cli.shutdownNow();
    }
  }

  @Test
  void redisAbsentFromTheStartDegradesAtOnceAndIsUsedWhenItComes() {
    int port = RedisServer.freePort();
    RedisLimits redis = later(RedisLimits.connect("redis://127.0.0.1:" + port));
    assertThat(redis.isConnected()).isFalse();
    RedisRateLimiter<String> limiter = limiter(redis, "fail-open");
    for (int i = 0; i < 20; i++) {
      Call c = call(limiter, "k");
      assertThat(c.thrown()).isNull();
      assertThat(c.decision()).as("fail-open: what a full bucket answers").isEqualTo(
          Decision.allowed(49, 20_000_000));
      assertThat(Duration.ofNanos(c.end() - c.start())).isLessThanOrEqualTo(LONGEST_CALL);
    }
    assertThat(limiter.stats().fromRedis()).isZero();
    later(RedisServer.startOn(port));
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(redis::isConnected);
    assertReturnsToRedis(limiter);
  }
}
