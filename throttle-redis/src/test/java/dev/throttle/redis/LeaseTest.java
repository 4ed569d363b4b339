package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leasing (issue 15, item 3): a hot key's tokens taken from Redis a few at a time and spent locally; the limit is
 * exceeded in a window by at most the lease's size times the processes, never over the whole run.
 */
class LeaseTest {

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

  private static RedisRateLimiter<String> leasing(String limit, String prefix, long tokens, Duration hold,
      ManualClock clock) {
    return redis.limiter(Limit.parse(limit)).prefix(prefix).timeout(Duration.ofSeconds(5)).clock(clock)
        .scheduler(clock).lease(tokens, hold).build();
  }

  private static ManualClock clock() {
    return new ManualClock(0, 20_000 * 86_400_000_000_000L);
  }

  @Test
  void aHotKeySpendsItsLeaseWithoutRoundTripsAndNoTokenMoreThanTheBucketHeld() {
    ManualClock clock = clock();
    RedisRateLimiter<String> limiter = leasing("10/min burst 10", "lease1:", 3, Duration.ofSeconds(1), clock);
    List<Decision> answers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      answers.add(limiter.decideAsync("k", 1).join());
    }
    // Alone (1), a lease of 1 + 3, its 3, another 1 + 3, its 3, a lease refused and the decision alone (1): 10.
    assertThat(answers.stream().filter(Decision::isAllowed).count()).isEqualTo(10);
    assertThat(answers.subList(0, 10)).allMatch(Decision::isAllowed);
    assertThat(answers.stream().map(Decision::remaining).toList().subList(0, 10))
        .as("Redis's remaining plus what the lease holds").containsExactly(9L, 8L, 7L, 6L, 5L, 4L, 3L, 2L, 1L, 0L);
    RedisRateLimiter.Stats stats = limiter.stats();
    assertThat(stats.leased()).isEqualTo(6);
    // 15 calls for 20: 1 alone, 2 leases, a refused lease and its decision alone, 10 alone while leases are refused.
    assertThat(stats.fromRedis()).isEqualTo(1 + 2 + 2 + 10);
    assertThat(limiter.estimateAsync("k", 1).join().remaining()).as("Redis's own count").isZero();
  }

  @Test
  void aLeaseExpiresAfterItsHoldAndItsTokensAreNotSpent() {
    ManualClock clock = clock();
    RedisRateLimiter<String> limiter = leasing("1/h burst 10", "lease2:", 5, Duration.ofSeconds(1), clock);
    assertThat(limiter.decideAsync("k", 1).join().remaining()).isEqualTo(9); // alone
    assertThat(limiter.decideAsync("k", 1).join().remaining()).isEqualTo(8); // a lease of 6: Redis holds 3
    assertThat(limiter.decideAsync("k", 1).join().remaining()).isEqualTo(7); // leased
    clock.advance(Duration.ofSeconds(2));
    // The lease's 4 are dropped; Redis has 3, less than a new lease of 6: the decision goes alone.
    Decision after = limiter.decideAsync("k", 1).join();
    assertThat(after.isAllowed()).isTrue();
    assertThat(after.remaining()).isEqualTo(2);
    assertThat(limiter.stats().leased()).isEqualTo(1);
    assertThat(limiter.estimateAsync("k", 1).join().remaining()).as("after 1 more, as a decision counts").isEqualTo(1);
  }

  @Test
  void aKeyAskedOnceInAWhileIsNeverLeased() {
    ManualClock clock = clock();
    RedisRateLimiter<String> limiter = leasing("10/s burst 10", "lease3:", 5, Duration.ofSeconds(1), clock);
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.decideAsync("k", 1).join().remaining()).isEqualTo(9);
      clock.advance(Duration.ofMillis(1500)); // past the hold: full again, and not hot
    }
    assertThat(limiter.stats().leased()).isZero();
    assertThat(limiter.stats().fromRedis()).isEqualTo(5);
  }

  /**
   * Three processes' worth of limiters (each with its own leases) on one key, random arrivals on one clock, and the
   * same arrivals on an exact limiter: with leases, every window's admissions stay within
   * {@code burst + rate * window + size * 3}, and the whole run's within the limit itself (every token was granted by
   * Redis); the exact bound alone is exceeded in some window (leasing does move admissions: the stated bound is
   * needed) while the exact limiter never exceeds it; and leasing admits nearly as many as the exact limiter.
   */
  @Test
  void admissionsExceedTheLimitInAWindowByAtMostTheLeasesOfAllProcesses() {
    long burst = 5;
    long rate = 20; // a second
    long size = 4;
    int processes = 3;
    ManualClock clock = clock();
    List<RedisRateLimiter<String>> leasing = new ArrayList<>();
    List<RedisRateLimiter<String>> exact = new ArrayList<>();
    for (int i = 0; i < processes; i++) {
      leasing.add(leasing(rate + "/s burst " + burst, "lease4:", size, Duration.ofSeconds(1), clock));
      exact.add(redis.limiter(Limit.parse(rate + "/s burst " + burst)).prefix("exact4:")
          .timeout(Duration.ofSeconds(5)).clock(clock).scheduler(clock).build());
    }
    Random random = new Random(3);
    List<Long> withLeases = new ArrayList<>();
    List<Long> exactly = new ArrayList<>();
    long start = clock.nanoTime();
    for (int step = 0; step < 4000; step++) {
      // Mostly busy, with pauses in which the bucket fills while leases are held.
      clock.advance(Duration.ofNanos(random.nextInt(40) == 0 ? 300_000_000 : random.nextInt(4_000_000)));
      int process = random.nextInt(processes);
      if (leasing.get(process).decideAsync("k", 1).join().isAllowed()) {
        withLeases.add(clock.nanoTime());
      }
      if (exact.get(process).decideAsync("k", 1).join().isAllowed()) {
        exactly.add(clock.nanoTime());
      }
    }
    long run = clock.nanoTime() - start;
    long leased = leasing.stream().mapToLong(l -> l.stats().leased()).sum();
    System.out.printf("lease bound test: %d admitted with leases (worst excess %d, %d leased), %d exactly (worst"
        + " excess %d) in %d ms%n", withLeases.size(), worstExcess(withLeases, burst, rate), leased, exactly.size(),
        worstExcess(exactly, burst, rate), run / 1_000_000);
    assertThat((long) withLeases.size()).as("over the run: no token Redis did not grant")
        .isLessThanOrEqualTo(burst + run * rate / 1_000_000_000L);
    assertThat(worstExcess(exactly, burst, rate)).as("the exact limiter, in its worst window").isLessThanOrEqualTo(0);
    assertThat(worstExcess(withLeases, burst, rate)).as("with leases, beyond the exact bound in the worst window")
        .isBetween(1L, size * processes);
    assertThat(withLeases.size()).as("nearly what the exact limiter admits").isGreaterThan(exactly.size() * 9 / 10);
    assertThat(leased).as("decisions without a round trip").isGreaterThan(withLeases.size() / 2L);
  }

  /** The most admissions in any window beyond {@code burst + rate * window}. */
  private static long worstExcess(List<Long> admitted, long burst, long rate) {
    long worst = Long.MIN_VALUE;
    for (int i = 0; i < admitted.size(); i++) {
      for (int j = i; j < admitted.size(); j++) {
        long window = admitted.get(j) - admitted.get(i);
        worst = Math.max(worst, (j - i + 1) - (burst + window * rate / 1_000_000_000L));
      }
    }
    return worst;
  }

  /**
   * 32 threads, each deciding one after the other, on one key of a real-time limiter with leases of 64, as many
   * decisions as the bucket holds: the decisions that meet a lease call out wait for it and share it; the bucket's
   * 4,000 tokens are admitted (less what the last leases leave), in few script calls (Redis's own count).
   */
  @Test
  void concurrentDecisionsShareALeaseAndAdmitTheBucket() throws Exception {
    long size = 64;
    RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("1/h burst 4000")).prefix("lease5:")
        .timeout(Duration.ofSeconds(5)).lease(size).build();
    int threads = 32;
    int each = 125; // 4,000 decisions: the bucket, less what leases leave at the end
    AtomicLong allowed = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<Void>> done = new ArrayList<>();
    long callsBefore = server.scriptCalls();
    try {
      for (int t = 0; t < threads; t++) {
        done.add(CompletableFuture.runAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          for (int i = 0; i < each; i++) {
            if (limiter.decideAsync("hot", 1).join().isAllowed()) {
              allowed.incrementAndGet();
            }
          }
        }, pool));
      }
      go.countDown();
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get();
    } finally {
      pool.shutdown();
    }
    long calls = server.scriptCalls() - callsBefore;
    RedisRateLimiter.Stats stats = limiter.stats();
    System.out.println("concurrent lease test: " + stats + ", allowed " + allowed + ", script calls " + calls);
    assertThat(stats.degraded()).isZero();
    assertThat(allowed.get()).isBetween(4000 - size, 4000L);
    assertThat(stats.leased() + stats.fromRedis()).as("each decision answered (a refused lease counts too)")
        .isGreaterThanOrEqualTo(threads * each);
    assertThat(stats.leased()).isGreaterThan(3000);
    assertThat(calls).as("script calls for %d decisions", threads * each).isLessThan(threads * each / 8);
  }

  @Test
  void aLeaseLargerThanTheBurstOrAHoldOfNothingIsRefused() {
    assertThatThrownBy(() -> redis.limiter(Limit.parse("10/s burst 5")).lease(6))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a lease must be of 1 to 5 tokens (the burst of the limit '10/s burst 5'), got 6");
    assertThatThrownBy(() -> redis.limiter(Limit.parse("10/s")).lease(0))
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> redis.limiter(Limit.parse("10/s")).lease(2, Duration.ZERO))
        .hasMessage("a lease's hold must be positive, got PT0S");
    assertThatThrownBy(() -> redis.limiter(Limit.parse("10/s")).leaseAtMost(-1))
        .hasMessage("a lease must be 0 (none) or a number of tokens, got -1");
  }

  /** One setting for limits of every burst: capped at each limit's burst, none for 0. */
  @Test
  void aLeaseAtMostIsCappedAtTheBurstAndZeroIsNone() {
    ManualClock clock = clock();
    RedisRateLimiter<String> capped = redis.limiter(Limit.parse("10/min burst 10")).prefix("lease6:")
        .timeout(Duration.ofSeconds(5)).clock(clock).scheduler(clock).leaseAtMost(64).build();
    RedisRateLimiter<String> none = redis.limiter(Limit.parse("10/min burst 10")).prefix("lease7:")
        .timeout(Duration.ofSeconds(5)).clock(clock).scheduler(clock).leaseAtMost(0).build();
    // A lease of the whole burst needs a full bucket: the second decision asks for 10 where 9 are left, is refused
    // the lease and goes alone; without leases every decision goes alone. Both admit the 10, neither leases.
    for (RedisRateLimiter<String> l : List.of(capped, none)) {
      long allowed = 0;
      for (int i = 0; i < 12; i++) {
        allowed += l.decideAsync("k", 1).join().isAllowed() ? 1 : 0;
      }
      assertThat(allowed).isEqualTo(10);
      assertThat(l.stats().leased()).isZero();
    }
    assertThat(capped.stats().fromRedis()).as("the refused lease is one call more").isEqualTo(13);
    assertThat(none.stats().fromRedis()).isEqualTo(12);
  }
}
