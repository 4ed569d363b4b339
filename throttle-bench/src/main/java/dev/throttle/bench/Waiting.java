package dev.throttle.bench;

import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Waiting at scale: {@value #WAITERS} pending async acquisitions on one limiter, Throttle's
 * {@code acquireAsync()} against Bucket4j's {@code asScheduler().consume(1, executor)} (given a single-thread
 * scheduled executor, the fewest threads it can use). Each library runs in a JVM of its own ({@link Child}):
 *
 * <ul>
 *   <li><b>heap per waiter</b>: on a limiter of 1 per hour whose burst is spent, so that every acquisition stays
 *       pending: the heap in use after a full collection with all of them pending, less the heap before, divided by
 *       the number of waiters (the futures are held in an array allocated before the first reading);
 *   <li><b>time to complete</b> (measured first): on a limiter of 100,000/s with burst 1,000, the time from the
 *       first acquisition to the completion of the last, against the ideal {@code (waiters - burst) / rate} = 0.99 s;
 *   <li><b>extra threads</b>: the most live threads seen during that run that were not alive before it (sampled
 *       every 10 ms), with their names.
 * </ul>
 *
 * <p>{@code java -cp benchmarks.jar dev.throttle.bench.Waiting}, or {@code ./scripts/bench waiting}.
 */
public final class Waiting {

  static final int WAITERS = 100_000;
  static final long RATE = 100_000;
  static final long BURST = 1_000;
  static final List<String> LIBRARIES = List.of("throttle", "bucket4j");

  private Waiting() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--child")) {
      child(args[1]);
      return;
    }
    Report report = new Report("waiting");
    report.line("%,d pending async acquisitions on one limiter; each library in its own JVM (-Xmx1g, serial GC)",
        WAITERS);
    report.line("  throttle  RateLimiter.acquireAsync() (waiters complete from Scheduler.shared(), one thread)");
    report.line("  bucket4j  bucket.asScheduler().consume(1, Executors.newSingleThreadScheduledExecutor())");
    List<Map<String, String>> results = new ArrayList<>();
    for (String library : LIBRARIES) {
      Map<String, String> r = Child.run(Waiting.class, List.of("-Xms1g", "-Xmx1g", "-XX:+UseSerialGC"), "--child",
          library);
      results.add(r);
      report.line("  %-9s %s  (%s)", library, r, Report.load());
    }
    report.line("");
    List<List<String>> rows = new ArrayList<>();
    rows.add(Report.row("library", "extra threads", "heap per waiter, B", "submit all, ms", "complete all, s",
        "ideal, s", "late by"));
    double ideal = (WAITERS - BURST) / (double) RATE;
    for (int i = 0; i < LIBRARIES.size(); i++) {
      Map<String, String> r = results.get(i);
      double complete = Double.parseDouble(r.get("completeSeconds"));
      rows.add(Report.row(LIBRARIES.get(i), r.get("extraThreads") + " " + r.get("threadNames"),
          Report.num(Double.parseDouble(r.get("heapPerWaiter"))), Report.num(Double.parseDouble(r.get("submitMs"))),
          String.format("%.3f", complete), String.format("%.3f", ideal),
          String.format("%+.1f%%", (complete - ideal) * 100 / ideal)));
    }
    report.table(rows);
    Map<String, String> t = results.get(0);
    Map<String, String> b = results.get(1);
    report.line("");
    report.line("ratio Throttle / Bucket4j: heap per waiter %s, time to complete %s, submit time %s",
        Report.ratio(Double.parseDouble(t.get("heapPerWaiter")), Double.parseDouble(b.get("heapPerWaiter"))),
        Report.ratio(Double.parseDouble(t.get("completeSeconds")), Double.parseDouble(b.get("completeSeconds"))),
        Report.ratio(Double.parseDouble(t.get("submitMs")), Double.parseDouble(b.get("submitMs"))));
    report.line("");
    report.line("targets (issue 5):");
    int extra = Integer.parseInt(t.get("extraThreads"));
    report.target(extra <= 2, "%,d async waiters used %d extra thread(s) %s (target at most 2)", WAITERS, extra,
        t.get("threadNames"));
    report.save();
  }

  /** One library's measurements, printed as results for the parent. */
  private static void child(String library) throws Exception {
    // Time to complete and threads: 100,000 waiters at 100,000/s, burst 1,000.
    // First, so that the threads a library starts on first use are counted (both start theirs lazily).
    Set<Thread> threadsBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
    Subject fast = subject(library, RATE, BURST, Duration.ofSeconds(1));
    AtomicInteger remaining = new AtomicInteger(WAITERS);
    CountDownLatch done = new CountDownLatch(1);
    long[] end = new long[1];
    long start = System.nanoTime();
    for (int i = 0; i < WAITERS; i++) {
      fast.acquireAsync.get().whenComplete((v, e) -> {
        if (remaining.decrementAndGet() == 0) {
          end[0] = System.nanoTime();
          done.countDown();
        }
      });
    }
    long submitted = System.nanoTime();
    Set<String> extraNames = new TreeSet<>();
    int extra = 0;
    do {
      Set<Thread> now = new HashSet<>(Thread.getAllStackTraces().keySet());
      now.removeAll(threadsBefore);
      extra = Math.max(extra, now.size());
      now.forEach(t -> extraNames.add(t.getName()));
    } while (!done.await(10, TimeUnit.MILLISECONDS));
    fast.close.run();
    Child.result("submitMs", (submitted - start) / 1e6);
    Child.result("completeSeconds", (end[0] - start) / 1e9);
    Child.result("extraThreads", extra);
    Child.result("threadNames", extraNames);

    // Heap per waiter: everything stays pending on a limiter of 1 per hour with its one token spent.
    CompletableFuture<?>[] pending = new CompletableFuture<?>[WAITERS];
    Subject slow = subject(library, 1, 1, Duration.ofHours(1));
    slow.tryAcquire.getAsLong();
    long before = Child.usedHeapAfterGc();
    for (int i = 0; i < WAITERS; i++) {
      pending[i] = slow.acquireAsync.get();
    }
    long after = Child.usedHeapAfterGc();
    for (CompletableFuture<?> f : pending) {
      if (f.isDone()) {
        throw new IllegalStateException(library + ": a waiter completed on a limiter of 1 per hour");
      }
    }
    Child.result("heapPerWaiter", (after - before) / (double) WAITERS);
    for (CompletableFuture<?> f : pending) {
      f.cancel(/* mayInterruptIfRunning= */ false);
    }
    slow.close.run();
  }

  /** A limiter of {@code amount} per {@code period} with {@code burst}, seen through the three calls used here. */
  private record Subject(LongSupplier tryAcquire, Supplier<CompletableFuture<?>> acquireAsync, Runnable close) {}

  private static Subject subject(String library, long amount, long burst, Duration period) {
    switch (library) {
      case "throttle": {
        RateLimiter limiter = RateLimiter.of(Limit.builder().rate(amount, period).burst(burst).build());
        return new Subject(() -> limiter.tryAcquire() ? 1 : 0, limiter::acquireAsync, () -> { });
      }
      case "bucket4j": {
        Bucket bucket = Bucket.builder()
            .addLimit(limit -> limit.capacity(burst).refillGreedy(amount, period))
            .build();
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        return new Subject(() -> bucket.tryConsume(1) ? 1 : 0, () -> bucket.asScheduler().consume(1, executor),
            executor::shutdownNow);
      }
      default:
        throw new IllegalArgumentException("unknown library '" + library + "' (known: " + LIBRARIES + ")");
    }
  }
}
