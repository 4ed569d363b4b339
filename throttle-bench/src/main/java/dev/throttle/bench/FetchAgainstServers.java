package dev.throttle.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The report of the {@code client} section ({@code scripts/bench.d/60-client}): {@code throttle fetch} against real
 * rate limiters, judged from each server's own access log. The script runs the cases and lists them in a
 * tab-separated file (one line per case: name, server, client flags, allowed rate per second, whether the server
 * publishes its remaining quota, whether its burst is at least the client's, inputs, the server's log, the client's
 * output and standard error, its exit code, wall time, whether it was stopped, and the load average at the end of
 * the run); this class reads the files and prints the table and the targets of issue 11.
 *
 * <p>The server's log has one line per request as the server saw it: {@code <end, Unix s.ms> <duration, s.ms>
 * <status> <url>} (nginx's {@code $msec $request_time $status $request_uri}; the Express app writes the same). The
 * arrival is end minus duration, in milliseconds. For each case:
 *
 * <ul>
 *   <li><b>goodput</b>: the 2xx per second in the steady state, that is the 2xx that arrived later than 1 s after the
 *       first request of the run, divided by the time from that instant to the last 2xx. The first second holds the
 *       server's initial burst allowance (nginx {@code burst=50}, the gateway's burst 20, a fresh fixed window) and
 *       the client's cold start, and is left out; retries at the end of the batch count (the batch is not done until
 *       they are). Against the allowed rate, as a ratio;
 *   <li><b>429 share</b>: the requests the server answered 429, over all the requests it saw (retries included);
 *   <li><b>lost</b>: inputs minus the distinct ids in the client's output file (every input must get a result).
 * </ul>
 *
 * <p>Where a case has 429s or misses its goodput, it prints what the log shows: when the 429s arrived, how long after
 * the previous 2xx, how many 2xx the server had let through in the second before, how long the client waited before
 * retrying, and the idle gaps at the server.
 *
 * <p>{@code java -cp benchmarks.jar dev.throttle.bench.FetchAgainstServers CASES.tsv [--quick]}, or
 * {@code ./scripts/bench client}.
 */
public final class FetchAgainstServers {

  static final double GOODPUT_TARGET = 0.97;
  static final double AUTO_GOODPUT_TARGET = 0.95;
  static final double REFUSED_SHARE_TARGET = 0.01;
  /** The start of the run left out of the steady state. */
  static final long WARM_UP_MS = 1_000;

  private FetchAgainstServers() {}

  /** One request as the server logged it: arrival (Unix ms), status, URL. */
  record Arrival(long ms, int status, String uri) {
    boolean ok() {
      return status >= 200 && status < 300;
    }
  }

  /** One case as the script ran it. */
  record Case(String name, String server, String client, double allowed, boolean quota, boolean covers, int inputs,
      Path log, Path output, Path err, String exit, double wallSeconds, boolean stopped, String load) {
    boolean auto() {
      return client.endsWith(" auto");
    }

    /** The issue sets targets for {@code --rate auto} only where the server publishes its quota. */
    boolean judged() {
      return !auto() || quota;
    }

    boolean ran() {
      return !exit.equals("unsupported");
    }

    static Case parse(String line) {
      String[] f = line.split("\t", -1);
      if (f.length != 14) {
        throw new IllegalArgumentException("a case needs 14 tab-separated fields, got " + f.length + ": " + line);
      }
      return new Case(f[0], f[1], f[2], Double.parseDouble(f[3]), f[4].equals("yes"), f[5].equals("yes"),
          Integer.parseInt(f[6]), Path.of(f[7]), Path.of(f[8]), Path.of(f[9]), f[10], Double.parseDouble(f[11]),
          f[12].equals("yes"), f[13]);
    }
  }

  /** What the server's log says of one run. */
  record Figures(int requests, int ok, int refused, double goodput) {
    double refusedShare() {
      return requests == 0 ? Double.NaN : refused / (double) requests;
    }
  }

  /** Parses a log in the format above; arrivals in the order of the file. */
  static List<Arrival> parseLog(List<String> lines) {
    List<Arrival> arrivals = new ArrayList<>(lines.size());
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.trim().split(" ");
      if (f.length < 3) {
        throw new IllegalArgumentException("a log line needs <end s.ms> <duration s.ms> <status> <url>: " + line);
      }
      long end = Math.round(Double.parseDouble(f[0]) * 1000);
      long duration = Math.round(Double.parseDouble(f[1]) * 1000);
      arrivals.add(new Arrival(end - duration, Integer.parseInt(f[2]), f.length > 3 ? f[3] : ""));
    }
    return arrivals;
  }

  static List<Arrival> byTime(List<Arrival> arrivals) {
    List<Arrival> sorted = new ArrayList<>(arrivals);
    sorted.sort(Comparator.comparingLong(Arrival::ms));
    return sorted;
  }

  /** The figures of a run, from its arrivals (any order). */
  static Figures figures(List<Arrival> arrivals) {
    int ok = 0;
    int refused = 0;
    long first = Long.MAX_VALUE;
    long lastOk = Long.MIN_VALUE;
    for (Arrival a : arrivals) {
      first = Math.min(first, a.ms());
      if (a.ok()) {
        ok++;
        lastOk = Math.max(lastOk, a.ms());
      } else if (a.status() == 429) {
        refused++;
      }
    }
    return new Figures(arrivals.size(), ok, refused, steadyGoodput(arrivals, first, lastOk));
  }

  private static double steadyGoodput(List<Arrival> arrivals, long first, long lastOk) {
    long from = first + WARM_UP_MS;
    if (lastOk - from < WARM_UP_MS) {
      return Double.NaN; // too short a steady state to say anything
    }
    long n = arrivals.stream().filter(a -> a.ok() && a.ms() > from).count();
    return n * 1000.0 / (lastOk - from);
  }

  /** Inputs that have no line in the client's output (by id). */
  static int lost(int inputs, List<String> output) {
    Set<String> ids = new HashSet<>();
    for (String line : output) {
      Matcher m = ID.matcher(line);
      if (m.find()) {
        ids.add(m.group(1));
      }
    }
    return inputs - ids.size();
  }

  private static final Pattern ID = Pattern.compile("^\\{\"id\":(\"(?:[^\"\\\\]|\\\\.)*\"|[^,}]*)");
  private static final Pattern OUTCOME = Pattern.compile("\"outcome\":\"(\\w+)\"");

  /** Results by outcome in the client's output. */
  static Map<String, Integer> outcomes(List<String> output) {
    Map<String, Integer> n = new HashMap<>();
    for (String line : output) {
      Matcher m = OUTCOME.matcher(line);
      if (m.find()) {
        n.merge(m.group(1), 1, Integer::sum);
      }
    }
    return n;
  }

  /**
   * What the log shows of the 429s and the pauses of a run: one line for the client's engineer. {@code allowed} is
   * the server's rate per second; an idle gap is one longer than five times its spacing.
   */
  static String diagnose(List<Arrival> arrivals, double allowed) {
    List<Arrival> sorted = byTime(arrivals);
    if (sorted.isEmpty()) {
      return "the server logged no request";
    }
    long first = sorted.get(0).ms();
    List<Long> sincePreviousOk = new ArrayList<>();
    List<Long> okInSecondBefore = new ArrayList<>();
    List<Long> retriedAfter = new ArrayList<>();
    List<Double> at = new ArrayList<>();
    int neverRetried = 0;
    long lastOk = Long.MIN_VALUE;
    for (int i = 0; i < sorted.size(); i++) {
      Arrival a = sorted.get(i);
      if (a.status() == 429) {
        at.add((a.ms() - first) / 1000.0);
        if (lastOk != Long.MIN_VALUE) {
          sincePreviousOk.add(a.ms() - lastOk);
        }
        long inSecond = 0;
        for (int j = i - 1; j >= 0 && sorted.get(j).ms() > a.ms() - 1000; j--) {
          if (sorted.get(j).ok()) {
            inSecond++;
          }
        }
        okInSecondBefore.add(inSecond);
        long retry = -1;
        for (int j = i + 1; j < sorted.size(); j++) {
          if (sorted.get(j).uri().equals(a.uri())) {
            retry = sorted.get(j).ms() - a.ms();
            break;
          }
        }
        if (retry < 0) {
          neverRetried++;
        } else {
          retriedAfter.add(retry);
        }
      } else if (a.ok()) {
        lastOk = a.ms();
      }
    }
    long idle = Math.round(5000 / allowed);
    int idleGaps = 0;
    long longest = 0;
    long idleTotal = 0;
    for (int i = 1; i < sorted.size(); i++) {
      long gap = sorted.get(i).ms() - sorted.get(i - 1).ms();
      longest = Math.max(longest, gap);
      if (gap > idle) {
        idleGaps++;
        idleTotal += gap;
      }
    }
    StringBuilder s = new StringBuilder();
    if (at.isEmpty()) {
      s.append("no 429");
    } else {
      int inFirstSecond = (int) at.stream().filter(t -> t < 1).count();
      s.append(String.format(Locale.ROOT, "%d x 429 at %.2f..%.2f s (%d in the first second)", at.size(), at.get(0),
          at.get(at.size() - 1), inFirstSecond));
      if (!sincePreviousOk.isEmpty()) {
        s.append("; ms since the previous 2xx: ").append(spread(sincePreviousOk));
      }
      s.append("; 2xx in the 1 s before: ").append(spread(okInSecondBefore));
      if (!retriedAfter.isEmpty()) {
        s.append("; retried after ms: ").append(spread(retriedAfter));
      }
      if (neverRetried > 0) {
        s.append("; ").append(neverRetried).append(" never retried");
      }
    }
    s.append(String.format(Locale.ROOT, "; %d idle gap(s) > %d ms at the server (%.2f s in all), longest %d ms",
        idleGaps, idle, idleTotal / 1000.0, longest));
    return s.toString();
  }

  /** {@code min/median/max}, of a non-empty list. */
  private static String spread(List<Long> values) {
    List<Long> v = new ArrayList<>(values);
    v.sort(null);
    return v.get(0) + "/" + v.get(v.size() / 2) + "/" + v.get(v.size() - 1) + " (min/median/max)";
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: FetchAgainstServers CASES.tsv [--quick]");
      System.exit(2);
    }
    List<Case> cases = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        cases.add(Case.parse(line));
      }
    }
    Report report = new Report("client");
    report.line("throttle fetch --concurrency 16 against each server, judged from the server's access log "
        + "(%s); goodput: 2xx/s from 1 s after the first arrival to the last 2xx", Report.quick(args) ? "--quick"
        : "full run");
    for (Case c : cases) {
      report.line("  %-21s %s; client %s", c.name(), c.server(), c.client());
    }
    report.line("");
    List<List<String>> rows = new ArrayList<>();
    rows.add(Report.row("case", "inputs", "requests", "2xx", "429", "429 %", "goodput/s", "allowed/s", "ratio",
        "lost", "not 2xx", "client s", "load"));
    Map<String, Figures> figures = new HashMap<>();
    Map<String, String> diagnoses = new HashMap<>();
    Map<String, Integer> lost = new HashMap<>();
    for (Case c : cases) {
      if (!c.ran()) {
        rows.add(Report.row(c.name(), c.inputs(), "-", "-", "-", "-", "-", Report.num(c.allowed()), "-", "-", "-",
            "not run", "-"));
        continue;
      }
      List<Arrival> arrivals = parseLog(read(c.log()));
      Figures f = figures(arrivals);
      List<String> output = read(c.output());
      int l = lost(c.inputs(), output);
      Map<String, Integer> outcomes = outcomes(output);
      int notOk = output.size() - outcomes.getOrDefault("succeeded", 0);
      figures.put(c.name(), f);
      lost.put(c.name(), l);
      if (f.refused() > 0 || !(f.goodput() / c.allowed() >= goodputTarget(c))) {
        diagnoses.put(c.name(), diagnose(arrivals, c.allowed()));
      }
      rows.add(Report.row(c.name(), c.inputs(), f.requests(), f.ok(), f.refused(),
          String.format(Locale.ROOT, "%.1f", f.refusedShare() * 100), Report.num(f.goodput()),
          Report.num(c.allowed()), String.format(Locale.ROOT, "%.3f", f.goodput() / c.allowed()), l, notOk,
          String.format(Locale.ROOT, "%.1f%s", c.wallSeconds(), c.stopped() ? " (stopped)" : ""), c.load()));
    }
    report.table(rows);
    report.line("");
    report.line("the client's summary (standard error, last lines), and the server's count where it keeps one:");
    for (Case c : cases) {
      if (!c.ran()) {
        continue;
      }
      List<String> err = read(c.err());
      for (String line : err.subList(Math.max(0, err.size() - 3), err.size())) {
        report.line("  %-21s %s", c.name(), line);
      }
      Path refused = c.log().resolveSibling(c.name() + ".gateway-refused");
      if (Files.exists(refused)) {
        report.line("  %-21s the gateway's /metrics: %s refused (its access log: %d x 429)", c.name(),
            Files.readString(refused, StandardCharsets.UTF_8).trim(), figures.get(c.name()).refused());
      }
    }
    if (!diagnoses.isEmpty()) {
      report.line("");
      report.line("what the server's log shows where there were 429s or too little goodput:");
      for (Case c : cases) {
        String d = diagnoses.get(c.name());
        if (d != null) {
          report.line("  %-21s %s", c.name(), d);
        }
      }
    }
    report.line("");
    report.line("targets (issue 11):");
    for (Case c : cases) {
      if (!c.judged()) {
        report.line("  (%s: no target, the server publishes no quota)", c.name());
        continue;
      }
      if (!c.ran()) {
        report.target(false, "%s: not run, the client has no --rate auto", c.name());
        continue;
      }
      Figures f = figures.get(c.name());
      double ratio = f.goodput() / c.allowed();
      report.target(ratio >= goodputTarget(c), "%s: goodput %.3f x allowed (target >= %.2f)%s", c.name(), ratio,
          goodputTarget(c), c.stopped() ? ", the client was stopped before the end" : "");
      if (c.quota() || c.covers()) {
        report.target(f.refused() == 0, "%s: %d of %d requests answered 429 (target 0: %s)", c.name(), f.refused(),
            f.requests(), c.quota() ? "the server publishes its remaining quota" : "its burst covers the client's");
      } else {
        report.target(f.refusedShare() <= REFUSED_SHARE_TARGET, "%s: %.2f %% of requests answered 429 (%d of %d; "
            + "target <= 1 %%)", c.name(), f.refusedShare() * 100, f.refused(), f.requests());
      }
      report.target(lost.get(c.name()) == 0, "%s: %d result(s) lost of %d inputs (target 0)", c.name(),
          lost.get(c.name()), c.inputs());
    }
    report.save();
  }

  private static double goodputTarget(Case c) {
    return c.auto() ? AUTO_GOODPUT_TARGET : GOODPUT_TARGET;
  }

  private static List<String> read(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
