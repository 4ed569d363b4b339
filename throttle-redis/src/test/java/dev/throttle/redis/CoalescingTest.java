package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.Reservation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batched decisions (issue 15): decisions that arrive while the limiter's calls are out go to Redis together, and
 * each gets what it would have got alone, in the order they arrived.
 */
class CoalescingTest {

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

  private static LuaRateLimiter<String> limiter(String limit, String prefix, ManualClock clock) {
    return (LuaRateLimiter<String>) redis.limiter(Limit.parse(limit)).prefix(prefix).timeout(Duration.ofSeconds(5))
        .clock(clock).scheduler(clock).build();
  }

  /**
   * The same arrivals, at the same times, once as single calls one after the other and once as one coalesced call
   * per instant: the same decision, decision by decision (greedy, interval and two-bucket limits; costs up to the
   * burst; a reservation waiting ahead of them in some rounds).
   */
  @Test
  void aCoalescedCallAnswersEachDecisionAsSingleCallsInTheirOrderWould() {
    String[] limits = {"10/s burst 5", "4/s every 250ms", "3/s and 20/min", "1/min", "7/3s burst 7"};
    Random random = new Random(15);
    int compared = 0;
    for (String text : limits) {
      Limit limit = Limit.parse(text);
      ManualClock clock = new ManualClock(0, 20_000 * 86_400_000_000_000L);
      LuaRateLimiter<String> single = limiter(text, "single:", clock);
      LuaRateLimiter<String> many = limiter(text, "many:", clock);
      for (int round = 0; round < 40; round++) {
        clock.advance(Duration.ofMillis(random.nextInt(400)));
        if (random.nextInt(6) == 0) {
          long cost = 1 + random.nextInt((int) Math.min(limit.burst(), 3));
          Reservation a = single.reserveAsync("k", cost, Duration.ofSeconds(30)).join(); // waiting ahead on "k"
          Reservation b = many.reserveAsync("k", cost, Duration.ofSeconds(30)).join();
          assertThat(b.decision()).isEqualTo(a.decision());
        }
        int n = 2 + random.nextInt(12);
        long[] costs = new long[n];
        List<String> keys = new ArrayList<>();
        List<Decision> one = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          costs[i] = 1 + random.nextInt((int) Math.min(limit.burst(), 4));
          keys.add(random.nextInt(3) == 0 ? "other" + random.nextInt(3) : "k"); // one key often, others between
          one.add(single.decideInRedis(keys.get(i), costs[i], false).join().decision());
        }
        List<Decision> together = List.of(many.decideManyInRedis(keys, costs).join());
        assertThat(together).as("%s, round %d, keys %s, costs %s", text, round, keys,
            java.util.Arrays.toString(costs)).isEqualTo(one);
        compared += n;
      }
    }
    assertThat(compared).isGreaterThan(1000);
  }

  /**
   * 64 callers asking at once for one hot key on a real Redis: exactly the burst is allowed, every caller gets an
   * answer from Redis, and Redis's own count of script calls (INFO commandstats) is below the decisions'.
   */
  @Test
  void aHotKeyCostsFewerScriptCallsThanDecisionsAndKeepsTheLimitExact() throws Exception {
    RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("500/h burst 500")).prefix("hot:")
        .timeout(Duration.ofSeconds(5)).build();
    limiter.decideAsync("warm-up", 1).join();
    long before = server.scriptCalls();
    int callers = 64;
    int each = 40;
    Map<String, int[]> counts = askAtOnce(limiter, callers, each, (caller, i) -> "hot");
    long calls = server.scriptCalls() - before;
    assertThat(counts.get("hot")).containsExactly(callers * each, 500);
    assertThat(limiter.stats().degraded()).isZero();
    assertThat(limiter.stats().fromRedis()).isEqualTo(1 + callers * each);
    assertThat(calls).as("script calls seen by Redis for %d decisions", callers * each)
        .isPositive().isLessThan(callers * each / 4);
  }

  /**
   * 64 callers over 1,000 keys: each key allows exactly its burst, and Redis runs fewer script calls than there
   * were decisions.
   */
  @Test
  void manyKeysGoTogetherAndEachKeepsItsLimit() throws Exception {
    RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("3/h burst 3")).prefix("spread:")
        .timeout(Duration.ofSeconds(5)).build();
    limiter.decideAsync("warm-up", 1).join();
    long before = server.scriptCalls();
    int callers = 64;
    int each = 100;
    Map<String, int[]> counts =
        askAtOnce(limiter, callers, each, (caller, i) -> "u" + ((caller * 37 + i * 11) % 1000));
    long calls = server.scriptCalls() - before;
    assertThat(limiter.stats().degraded()).isZero();
    counts.forEach((key, askedAndAllowed) -> assertThat(askedAndAllowed[1]).as(key)
        .isEqualTo(Math.min(3, askedAndAllowed[0])));
    assertThat(calls).as("script calls seen by Redis for %d decisions", callers * each)
        .isPositive().isLessThan(callers * each / 4);
  }

  /**
   * {@code callers} threads, started together, each asking {@code each} decisions at once (without waiting for the
   * answers between them) for the keys {@code keyOf(caller, i)}; per key, {asked, allowed}.
   */
  private static Map<String, int[]> askAtOnce(RedisRateLimiter<String> limiter, int callers, int each,
      BiFunction<Integer, Integer, String> keyOf) {
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<Map<String, int[]>>> all = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      int caller = c;
      all.add(CompletableFuture.supplyAsync(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        List<String> keys = new ArrayList<>();
        List<CompletableFuture<Decision>> mine = new ArrayList<>();
        for (int i = 0; i < each; i++) {
          keys.add(keyOf.apply(caller, i));
          mine.add(limiter.decideAsync(keys.get(i), 1));
        }
        Map<String, int[]> counts = new HashMap<>();
        for (int i = 0; i < each; i++) {
          int[] n = counts.computeIfAbsent(keys.get(i), k -> new int[2]);
          n[0]++;
          n[1] += mine.get(i).join().isAllowed() ? 1 : 0;
        }
        return counts;
      }, pool));
    }
    go.countDown();
    Map<String, int[]> counts = new HashMap<>();
    for (CompletableFuture<Map<String, int[]>> f : all) {
      f.join().forEach((key, n) -> {
        int[] total = counts.computeIfAbsent(key, k -> new int[2]);
        total[0] += n[0];
        total[1] += n[1];
      });
    }
    pool.shutdown();
    return counts;
  }
}
