package dev.throttle.bench;

import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@code tryAcquire(key)} over {@value #KEYS} distinct keys, in a shuffled order (each thread from its own
 * starting point), for each {@link KeyedLibrary}. Every key is used once before measuring. Two workloads:
 *
 * <ul>
 *   <li>{@code allowed}: 6 per minute, burst 1,000, per key. Every measured call is granted (a key has 1,000 tokens
 *       and is visited a few times a second at most), and no bucket refills to full, so all {@value #KEYS} keys stay
 *       held (checked): a lookup among 10^6 keys and a granted decision.
 *   <li>{@code refused}: 1 per minute, burst 1, per key. The set-up takes every key's token, so every measured call
 *       is refused, and all keys stay held (checked).
 * </ul>
 *
 * <p>Run with {@code ./scripts/bench per-key}; by hand: {@code java -jar throttle-bench/target/benchmarks.jar
 * PerKey -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PerKey {

  static final int KEYS = 1_000_000;

  @Param({"throttle", "bucket4j+caffeine", "guava+caffeine"})
  public String library;

  @Param({"allowed", "refused"})
  public String workload;

  Long[] keys;
  KeyedLibrary.KeyedContender limiter;

  @Setup
  public void setUp() {
    keys = shuffledKeys(KEYS, 42);
    KeyedLibrary kind = KeyedLibrary.of(library);
    limiter = switch (workload) {
      case "allowed" -> kind.create(6, 1_000);
      case "refused" -> kind.create(1, 1);
      default -> throw new IllegalArgumentException("unknown workload '" + workload + "' (allowed, refused)");
    };
    for (Long key : keys) {
      limiter.tryAcquire(key);
    }
    if (limiter.size() != KEYS) {
      throw new IllegalStateException(library + " holds " + limiter.size() + " keys, expected " + KEYS);
    }
  }

  /** Keys 0..n-1, boxed once (a server would hold its keys too), in a random order fixed by {@code seed}. */
  static Long[] shuffledKeys(int n, long seed) {
    Long[] keys = new Long[n];
    for (int i = 0; i < n; i++) {
      keys[i] = (long) i;
    }
    Random random = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Long swap = keys[i];
      keys[i] = keys[j];
      keys[j] = swap;
    }
    return keys;
  }

  /** Each thread walks the keys from its own random starting point. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    @Setup(Level.Trial)
    public void setUp() {
      next = ThreadLocalRandom.current().nextInt(KEYS);
    }

    Long advance(Long[] keys) {
      int i = next;
      next = i + 1 == keys.length ? 0 : i + 1;
      return keys[i];
    }
  }

  @Benchmark
  @Threads(1)
  public boolean oneThread(Cursor cursor) {
    return limiter.tryAcquire(cursor.advance(keys));
  }

  @Benchmark
  @Threads(2)
  public boolean twoThreads(Cursor cursor) {
    return limiter.tryAcquire(cursor.advance(keys));
  }
}
