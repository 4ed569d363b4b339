package dev.throttle.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the JMH benchmarks of one section ({@code hot-path}: {@link HotPath}; {@code per-key}: {@link PerKey}) one
 * cell at a time, with the GC profiler, and prints the table of absolute figures and ratios Throttle / other. JMH's
 * own output goes to {@code <out>/<section>.jmh.log}.
 *
 * <p>{@code java -cp benchmarks.jar dev.throttle.bench.JmhSection hot-path|per-key [--quick]}. Quick: 1 fork,
 * 2 warm-up iterations of 1 s (3 for Bucket4j and Resilience4j on the hot path) and 3 measured of 0.3 s; full:
 * 2 forks, 5 warm-up and 5 measured iterations of 1 s.
 */
public final class JmhSection {

  private JmhSection() {}

  /** One benchmark cell's figures: throughput in ops/us with its 99.9% error, and bytes allocated per operation. */
  record Figure(double score, double error, double bytesPerOp) {
    String throughput() {
      return Report.num(score) + " ± " + Report.num(error);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || !(args[0].equals("hot-path") || args[0].equals("per-key"))) {
      System.err.println("usage: JmhSection hot-path|per-key [--quick]");
      System.exit(2);
    }
    boolean quick = Report.quick(args);
    if (args[0].equals("hot-path")) {
      hotPath(quick);
    } else {
      perKey(quick);
    }
  }

  private static void hotPath(boolean quick) throws IOException, RunnerException {
    Report report = new Report("hot-path");
    List<String> libraries = new ArrayList<>();
    report.line("tryAcquire on one limiter; %s", settings(quick));
    report.line("allowed: %,d/s burst %,d (every call granted); refused: %d/s burst %d (all but %d a second refused)",
        HotPath.ALLOWED_RATE, HotPath.ALLOWED_RATE, HotPath.REFUSED_RATE, HotPath.REFUSED_RATE, HotPath.REFUSED_RATE);
    report.line("as built for the refused workload (the allowed one differs only in the numbers):");
    for (Library library : Library.values()) {
      libraries.add(library.id);
      report.line("  %-13s %s", library.id,
          library.create(HotPath.REFUSED_RATE, HotPath.REFUSED_RATE, /* blocking= */ false).config());
    }
    String[] methods = {"oneThread", "twoThreads"};
    String[] workloads = {"allowed", "refused"};
    // The floor does not depend on the workload: measured once, with the allowed one.
    Map<String, Figure> figures = measure(report, quick, HotPath.class, libraries, methods, workloads, "floor");
    tables(report, figures, libraries, methods, workloads, "floor");
    report.line("");
    report.line("targets (issue 5):");
    double t1 = figures.get("throttle/oneThread/allowed").score();
    double floor1 = figures.get("floor/oneThread/allowed").score();
    double b1 = figures.get("bucket4j/oneThread/allowed").score();
    report.target(t1 >= 0.9 * floor1, "1 thread, allowed: Throttle %s ops/us = %s the floor (%s) (target >= 0.90x); "
        + "%s Bucket4j (about 1.4x expected)", Report.num(t1), Report.ratio(t1, floor1), Report.num(floor1),
        Report.ratio(t1, b1));
    double maxBytes = 0;
    for (String method : methods) {
      for (String workload : workloads) {
        maxBytes = Math.max(maxBytes, figures.get("throttle/" + method + "/" + workload).bytesPerOp());
      }
    }
    report.target(maxBytes < 0.1, "allocation: Throttle at most %s B/call in every cell (target 0)",
        Report.num(maxBytes));
    double floor2 = figures.get("floor/twoThreads/allowed").score();
    for (String workload : workloads) {
      double t2 = figures.get("throttle/twoThreads/" + workload).score();
      double g2 = figures.get("guava/twoThreads/" + workload).score();
      double k2 = figures.get("bucket4j/twoThreads/" + workload).score();
      report.target(t2 >= 2 * g2 && t2 >= 2 * k2 && t2 >= 0.7 * floor2,
          "2 threads, %s: Throttle %s ops/us = %s Guava, %s Bucket4j (targets >= 2x), %s the floor (target >= 0.70x)",
          workload, Report.num(t2), Report.ratio(t2, g2), Report.ratio(t2, k2), Report.ratio(t2, floor2));
    }
    report.save();
  }

  private static void perKey(boolean quick) throws IOException, RunnerException {
    Report report = new Report("per-key");
    report.line("tryAcquire(key) over %,d distinct keys; %s", PerKey.KEYS, settings(quick));
    report.line("per key: allowed 6/min burst 1,000 (all granted, all keys held); refused 1/min burst 1 (all "
        + "refused, all keys held)");
    report.line("  throttle           KeyedRateLimiter.builder(limit).maxKeys(%,d)", KeyedLibrary.MAX_KEYS);
    report.line("  bucket4j+caffeine  Caffeine cache (expireAfterAccess(time to full), maximumSize(%,d)) of "
        + "lock-free Bucket4j buckets, cache.get(key, k -> newBucket())", KeyedLibrary.MAX_KEYS);
    report.line("  guava+caffeine     the same cache of Guava RateLimiter.create(rate)");
    // The quick run measures one thread only, to stay within its 5 minutes.
    String[] methods = quick ? new String[] {"oneThread"} : new String[] {"oneThread", "twoThreads"};
    String[] workloads = {"allowed", "refused"};
    List<String> libraries = new ArrayList<>();
    for (KeyedLibrary library : KeyedLibrary.values()) {
      libraries.add(library.id);
    }
    Map<String, Figure> figures = measure(report, quick, PerKey.class, libraries, methods, workloads, null);
    tables(report, figures, libraries, methods, workloads, null);
    report.save();
  }

  /**
   * Runs every (workload, method, library) cell of {@code benchmark}, printing each as it completes; {@code floor},
   * if not null, names a library measured with the allowed workload only. Keys: {@code library/method/workload}.
   */
  private static Map<String, Figure> measure(Report report, boolean quick, Class<?> benchmark, List<String> libraries,
      String[] methods, String[] workloads, String floor) throws IOException, RunnerException {
    Map<String, Figure> figures = new LinkedHashMap<>();
    Path file = report.dir().resolve(report.section() + ".jmh.log");
    report.line("JMH output: %s", file);
    try (PrintStream log = new PrintStream(new FileOutputStream(file.toFile()), true, StandardCharsets.UTF_8)) {
      for (String workload : workloads) {
        for (String method : methods) {
          for (String library : libraries) {
            if (library.equals(floor) && !workload.equals("allowed")) {
              continue;
            }
            Figure f = run(log, quick, benchmark, method, Map.of("library", library, "workload", workload));
            figures.put(library + "/" + method + "/" + workload, f);
            report.line("  %-18s %-9s %-11s %14s ops/us  %6s B/op  (%s)", library, workload, method,
                f.throughput(), Report.num(f.bytesPerOp()), Report.load());
          }
        }
      }
    }
    return figures;
  }

  /** The three tables of a JMH section: throughput, allocation, and the ratios Throttle / other. */
  private static void tables(Report report, Map<String, Figure> figures, List<String> libraries, String[] methods,
      String[] workloads, String floor) {
    report.line("");
    report.line("throughput, ops/us (higher is better), ± the 99.9% confidence half-width:");
    report.table(grid(libraries, figures, methods, workloads, Figure::throughput));
    report.line("");
    report.line("allocation, bytes per call (JMH GC profiler):");
    report.table(grid(libraries, figures, methods, workloads, f -> Report.num(f.bytesPerOp())));
    report.line("");
    report.line("ratio Throttle / other, same run (above 1: Throttle faster%s):", floor == null ? ""
        : "; the " + floor + "'s row: Throttle's fraction of it, measured once with the allowed workload");
    report.table(ratios(libraries, figures, methods, workloads, floor));
  }

  /** Rows of libraries, a column per (method, workload), one cell per figure ("-" where not measured). */
  private static List<List<String>> grid(List<String> libraries, Map<String, Figure> figures, String[] methods,
      String[] workloads, Function<Figure, String> cell) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(header("library", methods, workloads));
    for (String library : libraries) {
      List<String> row = Report.row(library);
      for (String method : methods) {
        for (String workload : workloads) {
          Figure f = figures.get(library + "/" + method + "/" + workload);
          row.add(f == null ? "-" : cell.apply(f));
        }
      }
      rows.add(row);
    }
    return rows;
  }

  /**
   * Rows of Throttle's throughput divided by each other library's, per (method, workload). {@code floor}, if not
   * null, names a reference measured with the allowed workload only, which every workload is compared with.
   */
  private static List<List<String>> ratios(List<String> libraries, Map<String, Figure> figures, String[] methods,
      String[] workloads, String floor) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(header("other", methods, workloads));
    for (String library : libraries) {
      if (library.equals("throttle")) {
        continue;
      }
      List<String> row = Report.row(library);
      for (String method : methods) {
        for (String workload : workloads) {
          Figure t = figures.get("throttle/" + method + "/" + workload);
          Figure o = figures.get(library + "/" + method + "/" + (library.equals(floor) ? "allowed" : workload));
          row.add(Report.ratio(t.score(), o.score()));
        }
      }
      rows.add(row);
    }
    return rows;
  }

  private static List<String> header(String first, String[] methods, String[] workloads) {
    List<String> header = Report.row(first);
    for (String method : methods) {
      for (String workload : workloads) {
        header.add((method.equals("oneThread") ? "1 thread " : "2 threads ") + workload);
      }
    }
    return header;
  }

  private static Figure run(PrintStream log, boolean quick, Class<?> benchmark, String method,
      Map<String, String> params) throws RunnerException {
    ChainedOptionsBuilder options = new OptionsBuilder()
        .include("^" + Pattern.quote(benchmark.getName() + "." + method) + "$")
        .forks(quick ? 1 : 2)
        // Bucket4j and Resilience4j reach their steady state on the hot path only after about 3 s of compilation here
        // (Bucket4j: 10-17 ops/us before, 25 after), so the quick run gives them 3 s; the others (and the per-key
        // code) are steady within their first second, and get 2 s. The full run gives every one 5 s.
        .warmupIterations(quick ? (slowToCompile(benchmark, params.get("library")) ? 3 : 2) : 5)
        .warmupTime(TimeValue.seconds(1))
        .measurementIterations(quick ? 3 : 5)
        .measurementTime(TimeValue.milliseconds(quick ? 300 : 1000))
        .addProfiler(GCProfiler.class)
        .jvmArgsAppend("-Xms2g", "-Xmx2g")
        .shouldFailOnError(true);
    params.forEach(options::param);
    RunResult result = new Runner(options.build(), OutputFormatFactory.createFormatInstance(log, VerboseMode.NORMAL))
        .runSingle();
    Result<?> primary = result.getPrimaryResult();
    double bytes = Double.NaN;
    for (String name : result.getSecondaryResults().keySet()) {
      if (name.endsWith("gc.alloc.rate.norm")) {
        bytes = result.getSecondaryResults().get(name).getScore();
      }
    }
    return new Figure(primary.getScore(), primary.getScoreError(), bytes);
  }

  private static boolean slowToCompile(Class<?> benchmark, String library) {
    return benchmark == HotPath.class && (library.equals("bucket4j") || library.equals("resilience4j"));
  }

  private static String settings(boolean quick) {
    return quick
        ? "JMH quick: 1 fork, 2 warm-up iterations of 1 s (Bucket4j, Resilience4j: 3), 3 measured of 0.3 s"
        : "JMH: 2 forks, 5 warm-up and 5 measured iterations of 1 s";
  }
}
