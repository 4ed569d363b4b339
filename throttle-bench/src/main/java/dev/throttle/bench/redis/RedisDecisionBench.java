package dev.throttle.bench.redis;

import dev.throttle.core.Limit;
import dev.throttle.redis.FailurePolicy;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * Decisions per second on one Redis server with many concurrent callers, on one hot key and spread over many keys:
 * Throttle's {@code RedisRateLimiter} (decisions that queue go together in one script call) against Bucket4j's
 * Lettuce backend (read, then compare-and-swap, retried on conflict), and a trivial {@code EVALSHA} through the
 * same client (Lettuce's own ceiling here); and Throttle with leases of 64 tokens (opt-in, not exact: the tokens of a
 * lease are spent here without a round trip). The section script {@code scripts/bench.d/40-redis} adds the server's ceiling measured by
 * {@code redis-benchmark} on the same server, before and after.
 *
 * <p>A caller is a chain of async calls: it asks, waits for the answer, and asks again (a closed loop), so
 * {@code --callers 64} keeps 64 decisions in flight, pipelined on one connection per library.
 *
 * <p>Run by {@code ./scripts/bench 40-redis} (which starts the server and runs redis-benchmark); by hand:
 * {@code java -cp throttle-bench/target/benchmarks.jar dev.throttle.bench.redis.RedisDecisionBench --uri
 * redis://127.0.0.1:6380 --callers 64 --seconds 5 --warmup 5 --rounds 5 --keys 10000}.
 */
public final class RedisDecisionBench {

  /** Allows every decision: each one writes, which is where compare-and-swap collides. */
  private static final long RATE = 100_000_000;

  /** The lease of the leasing limiter (off by default in the library): about the callers in flight. */
  private static final long LEASE = 64;

  private RedisDecisionBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    String uri = opts.getOrDefault("--uri", "redis://127.0.0.1:6379");
    int callers = Integer.parseInt(opts.getOrDefault("--callers", "64"));
    double seconds = Double.parseDouble(opts.getOrDefault("--seconds", "10"));
    double warmup = Double.parseDouble(opts.getOrDefault("--warmup", "3"));
    int keys = Integer.parseInt(opts.getOrDefault("--keys", "10000"));

    String[] throttleKeys = new String[keys];
    byte[][] bucket4jKeys = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      throttleKeys[i] = "user-" + i;
      bucket4jKeys[i] = ("bucket4j:user-" + i).getBytes(StandardCharsets.UTF_8);
    }

    int rounds = Integer.parseInt(opts.getOrDefault("--rounds", "3"));
    RedisClient client = RedisClient.create(uri);
    try (RedisLimits redis = RedisLimits.connect(uri);
        StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE)) {
      RedisRateLimiter<String> throttle = redis.limiter(Limit.of(RATE, Duration.ofSeconds(1)))
          .prefix("bench:")
          .timeout(Duration.ofSeconds(2)) // measure Redis, not the failure policy
          .onFailure(FailurePolicy.failClosed())
          .build();
      RedisRateLimiter<String> leasing = redis.limiter(Limit.of(RATE, Duration.ofSeconds(1)))
          .prefix("bench-lease:")
          .timeout(Duration.ofSeconds(2))
          .onFailure(FailurePolicy.failClosed())
          .lease(LEASE)
          .build();
      BucketConfiguration config = BucketConfiguration.builder()
          .addLimit(limit -> limit.capacity(RATE).refillGreedy(RATE, Duration.ofSeconds(1)))
          .build();
      AsyncProxyManager<byte[]> buckets = Bucket4jLettuce.casBasedBuilder(connection)
          .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(
              Duration.ofSeconds(10)))
          .build()
          .asAsync();
      AsyncBucketProxy[] proxies = new AsyncBucketProxy[keys];
      for (int i = 0; i < keys; i++) {
        proxies[i] = buckets.builder().build(bucket4jKeys[i], config);
      }
      RedisAsyncCommands<byte[], byte[]> async = connection.async();
      String sha = async.scriptLoad("return 1".getBytes(StandardCharsets.US_ASCII)).get(10, TimeUnit.SECONDS);
      byte[][] noKeys = new byte[0][];

      String[] names = {"Throttle", "Bucket4j (Lettuce, CAS)", "trivial EVALSHA via Lettuce",
          "Throttle, leases of " + LEASE};
      IntFunction<CompletableFuture<?>>[][] ops = ops(
          new IntFunction[] {i -> throttle.decideAsync(throttleKeys[0], 1),
              i -> throttle.decideAsync(throttleKeys[i], 1)},
          new IntFunction[] {i -> proxies[0].tryConsume(1), i -> proxies[i].tryConsume(1)},
          new IntFunction[] {i -> async.<Long>evalsha(sha, ScriptOutputType.INTEGER, noKeys).toCompletableFuture(),
              i -> async.<Long>evalsha(sha, ScriptOutputType.INTEGER, noKeys).toCompletableFuture()},
          new IntFunction[] {i -> leasing.decideAsync(throttleKeys[0], 1),
              i -> leasing.decideAsync(throttleKeys[i], 1)});
      for (IntFunction<CompletableFuture<?>>[] op : ops) {
        run(callers, 0, warmup, op[1], keys); // JIT warm-up, not measured
      }
      // Rounds alternate the libraries, so that a busy moment of a shared machine does not fall on one of them
      // only; each figure is the median of its rounds.
      double[][][] figures = new double[names.length][2][rounds];
      for (int r = 0; r < rounds; r++) {
        for (int scenario = 0; scenario < 2; scenario++) {
          for (int c = 0; c < names.length; c++) {
            if (c == 2 && scenario == 1) {
              figures[c][1][r] = figures[c][0][r]; // no key: the same as the hot key
              continue;
            }
            figures[c][scenario][r] = run(callers, 0.5, seconds, ops[c][scenario], scenario == 0 ? 1 : keys);
          }
        }
      }
      for (RedisRateLimiter<String> l : java.util.List.of(throttle, leasing)) {
        RedisRateLimiter.Stats stats = l.stats();
        if (stats.degraded() > 0) {
          System.out.println("WARNING: " + stats.degraded() + " Throttle decisions were degraded (timeouts "
              + stats.timeouts() + ", errors " + stats.errors() + "); its figures are not Redis's");
        }
      }
      RedisRateLimiter.Stats leased = leasing.stats();
      System.out.printf(Locale.ROOT, "leases of %d: %.1f %% of the decisions answered from a lease%n", LEASE,
          100.0 * leased.leased() / (leased.leased() + leased.fromRedis()));
      print(names, figures, callers, seconds, rounds, keys);
    } finally {
      client.shutdown();
    }
  }

  @SafeVarargs
  private static IntFunction<CompletableFuture<?>>[][] ops(IntFunction<CompletableFuture<?>>[]... ops) {
    return ops;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void print(String[] names, double[][][] figures, int callers, double seconds, int rounds, int keys) {
    System.out.printf(Locale.ROOT, "%d concurrent callers; median of %d rounds of %.0f s, libraries alternating%n",
        callers, rounds, seconds);
    System.out.printf(Locale.ROOT, "%-32s %14s %14s%n", "decisions per second", "one hot key", keys + " keys");
    double[][] med = new double[names.length][2];
    for (int c = 0; c < names.length; c++) {
      med[c][0] = median(figures[c][0]);
      med[c][1] = median(figures[c][1]);
      System.out.printf(Locale.ROOT, "%-32s %14.0f %14.0f%n", names[c], med[c][0], med[c][1]);
    }
    System.out.printf(Locale.ROOT, "%-32s %13.1fx %13.1fx%n", "Throttle / Bucket4j", med[0][0] / med[1][0],
        med[0][1] / med[1][1]);
    System.out.printf(Locale.ROOT, "%-32s %13.2fx %13.2fx%n", "Throttle / trivial via Lettuce",
        med[0][0] / med[2][0], med[0][1] / med[2][1]);
    System.out.printf(Locale.ROOT, "%-32s %13.2fx %13.2fx%n", "leases / Throttle exact",
        med[3][0] / med[0][0], med[3][1] / med[0][1]);
    for (int c : new int[] {0, 1, 3}) {
      System.out.printf(Locale.ROOT, "rounds, %s: hot %s; %d keys %s%n", names[c], rounded(figures[c][0]), keys,
          rounded(figures[c][1]));
    }
  }

  private static String rounded(double[] values) {
    StringBuilder sb = new StringBuilder();
    for (double v : values) {
      sb.append(sb.length() == 0 ? "" : " ").append(Math.round(v));
    }
    return sb.toString();
  }

  /**
   * Keeps {@code callers} calls in flight for the warm-up and the measurement; returns completed calls per second
   * during the measurement. {@code op} gets a key index drawn uniformly below {@code keys}.
   */
  private static double run(int callers, double warmup, double seconds, IntFunction<CompletableFuture<?>> op,
      int keys) {
    long start = System.nanoTime();
    long measureFrom = start + (long) (warmup * 1e9);
    long measureTo = measureFrom + (long) (seconds * 1e9);
    LongAdder measured = new LongAdder();
    AtomicLong failures = new AtomicLong();
    CountDownLatch done = new CountDownLatch(callers);
    for (int c = 0; c < callers; c++) {
      ask(op, keys, measureFrom, measureTo, measured, failures, done);
    }
    try {
      if (!done.await((long) (warmup + seconds) + 60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("callers did not finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (failures.get() > 0) {
      System.out.println("WARNING: " + failures.get() + " calls failed");
    }
    return measured.sum() / seconds;
  }

  /**
   * One caller: asks, and asks again when answered. A call answered at once (a lease's) is followed in a loop on
   * this thread rather than deeper in the stack or on another thread: {@code whenCompleteAsync}'s default executor
   * is a new thread per task on a 2-core machine (the common pool has one worker there), which measured thread
   * starts instead of decisions.
   */
  private static void ask(IntFunction<CompletableFuture<?>> op, int keys, long from, long to, LongAdder measured,
      AtomicLong failures, CountDownLatch done) {
    while (true) {
      if (System.nanoTime() - to >= 0) {
        done.countDown();
        return;
      }
      int key = keys == 1 ? 0 : ThreadLocalRandom.current().nextInt(keys);
      CompletableFuture<?> call = op.apply(key);
      if (!call.isDone()) {
        call.whenComplete((v, e) -> {
          count(e, from, to, measured, failures);
          ask(op, keys, from, to, measured, failures, done);
        });
        return;
      }
      Throwable failure = null;
      try {
        call.join();
      } catch (RuntimeException e) {
        failure = e;
      }
      count(failure, from, to, measured, failures);
    }
  }

  private static void count(Throwable failure, long from, long to, LongAdder measured, AtomicLong failures) {
    long end = System.nanoTime();
    if (failure != null) {
      failures.incrementAndGet();
    } else if (end - from >= 0 && end - to < 0) {
      measured.increment();
    }
  }
}
