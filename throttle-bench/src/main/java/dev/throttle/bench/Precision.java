package dev.throttle.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Precision with a real clock: {@value #THREADS} threads call the blocking acquire of one limiter as fast as it
 * lets them, at 100/s, 1,000/s and 10,000/s, for 10 s each (2 s with {@code --quick}); every grant is stamped
 * with {@link System#nanoTime()} as the call returns. For each {@link Library}:
 *
 * <ul>
 *   <li><b>achieved rate</b>: the grants in a window of {@code L = run - 1.5 s} seconds, divided by {@code L},
 *       averaged over every start of the window between 0.5 s and 1.5 s into the run (computed exactly: each grant
 *       counts with the fraction of those starts whose window holds it). The first half second (the initial burst)
 *       is left out, and averaging over a whole second of starts measures a limiter that grants in bursts once a
 *       second (Resilience4j) as fairly as one that paces its grants, without the +-1 grant of a single window;
 *   <li><b>largest number granted in any 1 s window</b> (any start, window {@code [t, t + 1 s)}), against the
 *       allowed {@code burst + rate} for the burst the limiter was built with. Stamps are taken after the call
 *       returns, so a thread woken late can make a window look fuller than it was, never emptier.
 * </ul>
 *
 * <p>{@code java -cp benchmarks.jar dev.throttle.bench.Precision [--quick]}, or {@code ./scripts/bench precision}.
 */
public final class Precision {

  static final int THREADS = 16;
  static final long[] RATES = {100, 1_000, 10_000};
  private static final long SECOND = 1_000_000_000L;

  private Precision() {}

  /** What one run measured. */
  record Run(Library library, String label, String config, long rate, long burst, long granted, double achieved,
      long maxWindow) {
    double errorPercent() {
      return (achieved - rate) * 100.0 / rate;
    }

    long bound() {
      return burst + rate;
    }
  }

  public static void main(String[] args) throws InterruptedException {
    boolean quick = Report.quick(args);
    long runNanos = quick ? 2 * SECOND : 10 * SECOND;
    Report report = new Report("precision");
    report.line("%d threads call the blocking acquire as fast as allowed, %.1f s per library and rate; each limiter "
        + "built for n/s with burst n where it has one, and Throttle also with burst 1", THREADS, runNanos / 1e9);
    List<Run> runs = new ArrayList<>();
    for (long rate : RATES) {
      for (Library library : Library.LIMITERS) {
        runs.add(report(report, run(library, library.id, rate, rate, runNanos)));
      }
      runs.add(report(report, run(Library.THROTTLE, "throttle burst 1", rate, 1, runNanos)));
    }
    report.line("");
    for (Run first : runs.subList(0, Library.LIMITERS.length + 1)) {
      report.line("  %-16s %s", first.label(), first.config());
    }
    report.line("");
    List<List<String>> rows = new ArrayList<>();
    rows.add(Report.row("library", "rate/s", "burst", "achieved/s", "error", "max in 1 s", "allowed (burst + rate)",
        "max / allowed"));
    for (Run r : runs) {
      rows.add(Report.row(r.label(), String.format("%,d", r.rate()), String.format("%,d", r.burst()),
          String.format("%.3f", r.achieved()), String.format("%+.3f%%", r.errorPercent()),
          String.format("%,d", r.maxWindow()), String.format("%,d", r.bound()),
          Report.ratio(r.maxWindow(), r.bound())));
    }
    report.table(rows);
    report.line("");
    report.line("targets (issue 5):");
    for (Run r : runs) {
      if (r.library() == Library.THROTTLE && r.burst() == r.rate()) { // the setting compared with the others
        report.target(Math.abs(r.errorPercent()) <= 0.1, "%s at %,d/s: rate error %+.3f%% (target within "
            + "0.1%%)", r.label(), r.rate(), r.errorPercent());
        report.target(r.maxWindow() <= r.bound(), "%s at %,d/s: largest 1 s window %,d (target at most "
            + "burst + rate = %,d)", r.label(), r.rate(), r.maxWindow(), r.bound());
      }
    }
    report.save();
  }

  private static Run report(Report report, Run run) {
    report.line("  %-16s %,6d/s  granted %,7d  achieved %s/s (%+.3f%%)  largest 1 s window %,d (allowed %,d)  (%s)",
        run.label(), run.rate(), run.granted(), Report.num(run.achieved()), run.errorPercent(), run.maxWindow(),
        run.bound(), Report.load());
    return run;
  }

  /** Runs {@link #THREADS} threads on one new limiter for {@code runNanos} and measures the grants. */
  static Run run(Library library, String label, long rate, long burst, long runNanos) throws InterruptedException {
    Library.Contender limiter = library.create(rate, burst, /* blocking= */ true);
    CountDownLatch start = new CountDownLatch(1);
    long[][] stamps = new long[THREADS][];
    int[] counts = new int[THREADS];
    long[] origin = new long[1];
    Thread[] threads = new Thread[THREADS];
    for (int i = 0; i < THREADS; i++) {
      int id = i;
      threads[i] = new Thread(() -> {
        long[] mine = new long[1024];
        int n = 0;
        try {
          start.await();
          long t0 = origin[0];
          while (true) {
            limiter.acquire();
            long t = System.nanoTime() - t0;
            if (t >= runNanos) {
              break;
            }
            if (n == mine.length) {
              mine = Arrays.copyOf(mine, n * 2);
            }
            mine[n++] = t;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        stamps[id] = mine;
        counts[id] = n;
      }, "precision-" + library.id + "-" + i);
      threads[i].start();
    }
    origin[0] = System.nanoTime();
    start.countDown(); // the latch publishes origin[0] to the threads
    for (Thread thread : threads) {
      thread.join();
    }
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int k = 0;
    for (int i = 0; i < THREADS; i++) {
      System.arraycopy(stamps[i], 0, all, k, counts[i]);
      k += counts[i];
    }
    Arrays.sort(all);
    return new Run(library, label, limiter.config(), rate, limiter.burst(), total, achievedRate(all, runNanos),
        maxInWindow(all, SECOND));
  }

  /**
   * Grants per second in a window of {@code L = run - 1.5 s}, averaged over the window's starts {@code s} in
   * {@code [0.5 s, 1.5 s)}: a grant at {@code g} is in the window for the starts {@code (g - L, g]}, so it counts
   * with the length of that interval within {@code [0.5 s, 1.5 s)}, in seconds.
   */
  static double achievedRate(long[] sorted, long runNanos) {
    long first = SECOND / 2;
    long last = first + SECOND;
    long length = runNanos - last;
    double weight = 0;
    for (long g : sorted) {
      long from = Math.max(first, g - length);
      long to = Math.min(last, g);
      if (to > from) {
        weight += (to - from) / (double) SECOND;
      }
    }
    return weight / (length / (double) SECOND);
  }

  /** The most stamps in any window {@code [t, t + window)}, for sorted stamps. */
  static long maxInWindow(long[] sorted, long window) {
    long max = 0;
    int j = 0;
    for (int i = 0; i < sorted.length; i++) {
      while (j < sorted.length && sorted[j] - sorted[i] < window) {
        j++;
      }
      max = Math.max(max, j - i);
    }
    return max;
  }
}
