package dev.throttle.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@code tryAcquire} on one limiter shared by 1 or 2 threads, for every {@link Library} and the physical floor.
 *
 * <ul>
 *   <li>{@code allowed}: 10^9 per second, burst 10^9 — far above what a core can ask, so every call is granted
 *       and writes the state (the compare-and-set path);
 *   <li>{@code refused}: 100 per second, burst 100 — after the first hundred, all but 100 calls a second are
 *       refused (the read-only path of the limiters that have one).
 * </ul>
 *
 * Every limiter is called through the same {@link Library.Contender} interface; JMH forks a JVM per library, where
 * that call site sees one class and is inlined. Run with {@code ./scripts/bench hot-path} (which runs
 * {@link JmhSection}); by hand: {@code java -jar throttle-bench/target/benchmarks.jar HotPath -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HotPath {

  static final long ALLOWED_RATE = 1_000_000_000L;
  static final long REFUSED_RATE = 100;

  @Param({"throttle", "bucket4j", "guava", "resilience4j", "failsafe", "floor"})
  public String library;

  @Param({"allowed", "refused"})
  public String workload;

  private Library.Contender limiter;

  @Setup
  public void setUp() {
    long rate = switch (workload) {
      case "allowed" -> ALLOWED_RATE;
      case "refused" -> REFUSED_RATE;
      default -> throw new IllegalArgumentException("unknown workload '" + workload + "' (allowed, refused)");
    };
    limiter = Library.of(library).create(rate, rate, /* blocking= */ false);
  }

  @Benchmark
  @Threads(1)
  public boolean oneThread() {
    return limiter.tryAcquire();
  }

  @Benchmark
  @Threads(2)
  public boolean twoThreads() {
    return limiter.tryAcquire();
  }
}
