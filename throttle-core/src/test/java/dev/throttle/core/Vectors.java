package dev.throttle.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads spec/bucket-vectors.txt, the table of expected decisions, reservations and cancellations shared with the
 * Redis script (the file's header describes the lines).
 */
public final class Vectors {

  /** What a row asks. */
  public enum Op { DECIDE, RESERVE, CANCEL }

  /** What a reservation row expects: ready at once, granted with a wait, or not granted. */
  public enum Outcome { READY, WAITING, REFUSED }

  /** What a cancel row expects: the tokens given back, cancelled with the tokens kept spent, or not cancelled. */
  public enum Cancel { REFUNDED, KEPT, NONE }

  /**
   * One row. {@code expected} is the decision of a decide row and of a reservation row (its {@code decision()}); a
   * cancel row has none. {@code reservation} is the 1-based number of the reserve row a cancel row cancels.
   */
  public record Request(Op op, long t, long cost, long maxWaitNanos, Outcome outcome, int reservation,
      Cancel cancel, Decision expected, int line) {}

  /**
   * A scenario; {@code unixStart} is the Unix time (ns) at its t=0, where interval boundaries are placed;
   * {@code cancellation} is null when it holds for every store, else the only cancellation it holds for.
   */
  public record Scenario(String limit, long unixStart, KeyedRateLimiter.Cancellation cancellation,
      List<Request> requests) {
    /** Whether every row is a plain decision (no reservation, no cancel). */
    public boolean decisionsOnly() {
      return requests.stream().allMatch(r -> r.op() == Op.DECIDE);
    }

    /** Whether a store whose cancellation is {@code c} must give these answers. */
    public boolean holdsFor(KeyedRateLimiter.Cancellation c) {
      return cancellation == null || cancellation == c;
    }

    @Override
    public String toString() {
      return limit + (unixStart == 0 ? "" : " from Unix time " + unixStart)
          + (cancellation == null ? "" : " (cancellation " + cancellation + ")") + " at line "
          + (requests.isEmpty() ? 0 : requests.get(0).line());
    }
  }

  public static Path file() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      Path candidate = d.resolve("spec").resolve("bucket-vectors.txt");
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("spec/bucket-vectors.txt not found above " + dir);
  }

  public static List<Scenario> load() {
    List<String> lines;
    try {
      lines = Files.readAllLines(file());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Scenario> scenarios = new ArrayList<>();
    List<Request> current = null;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("limit ")) {
        current = new ArrayList<>();
        scenarios.add(new Scenario(line.substring("limit ".length()), 0, null, current));
        continue;
      }
      if (line.startsWith("unix ") && current != null && current.isEmpty()) {
        Scenario last = scenarios.remove(scenarios.size() - 1);
        scenarios.add(new Scenario(last.limit(), Long.parseLong(line.substring(5)), last.cancellation(), current));
        continue;
      }
      if (current == null) {
        throw new IllegalStateException("line " + (i + 1) + " comes before any 'limit' line: " + line);
      }
      if (line.startsWith("cancels ")) {
        Scenario last = scenarios.remove(scenarios.size() - 1);
        KeyedRateLimiter.Cancellation c = switch (line) {
          case "cancels exact" -> KeyedRateLimiter.Cancellation.EXACT;
          case "cancels if-last" -> KeyedRateLimiter.Cancellation.IF_LAST;
          default -> throw new IllegalStateException("bad cancellation on line " + (i + 1) + ": " + line);
        };
        scenarios.add(new Scenario(last.limit(), last.unixStart(), c, current));
        continue;
      }
      current.add(row(line.split("\\s+"), i + 1));
    }
    return scenarios;
  }

  private static Request row(String[] w, int line) {
    try {
      long t = Long.parseLong(w[0]);
      if (w[1].equals("cancel") && w.length == 5 && w[3].equals("->")) {
        Cancel c = Cancel.valueOf(w[4].toUpperCase(java.util.Locale.ROOT));
        return new Request(Op.CANCEL, t, 0, 0, null, Integer.parseInt(w[2]), c, null, line);
      }
      if (w[1].equals("reserve") && w.length == 9 && w[4].equals("->")) {
        Outcome o = Outcome.valueOf(w[5].toUpperCase(java.util.Locale.ROOT));
        long remaining = Long.parseLong(w[6]);
        long wait = Long.parseLong(w[7]);
        long reset = Long.parseLong(w[8]);
        Decision d = switch (o) {
          case READY -> Decision.allowed(remaining, reset);
          case WAITING -> waiting(remaining, wait, reset);
          case REFUSED -> Decision.refused(remaining, wait, reset);
        };
        return new Request(Op.RESERVE, t, Long.parseLong(w[2]), Long.parseLong(w[3]), o, 0, null, d, line);
      }
      if (w.length == 7 && w[2].equals("->")) {
        long remaining = Long.parseLong(w[4]);
        long wait = Long.parseLong(w[5]);
        long reset = Long.parseLong(w[6]);
        Decision d = switch (w[3]) {
          case "allowed" -> Decision.allowed(remaining, reset);
          case "refused" -> Decision.refused(remaining, wait, reset);
          default -> throw new IllegalArgumentException(w[3]);
        };
        return new Request(Op.DECIDE, t, Long.parseLong(w[1]), 0, null, 0, null, d, line);
      }
    } catch (IllegalArgumentException e) {
      // reported below with the line
    }
    throw new IllegalStateException("bad vector line " + line + ": " + String.join(" ", w));
  }

  /** The decision of a reservation granted with a wait. */
  static Decision waiting(long remaining, long wait, long reset) {
    return Decision.allowedAfter(remaining, wait, reset);
  }

  /** A waiting reservation's decision from a script's refusal with the same numbers (wait and reset). */
  public static Decision waiting(Decision refusal) {
    return waiting(refusal.remaining(), refusal.waitNanos(), refusal.resetNanos());
  }

  /**
   * Runs a scenario's rows against a store given as three functions, checking each answer; for the stores'
   * tests. {@code advanceTo} moves the store's time to a row's time (ns since the scenario started).
   */
  public interface Driver {
    void advanceTo(long t);

    Decision decide(long cost);

    Reservation reserve(long cost, long maxWaitNanos);
  }

  /**
   * Plays {@code scenario} on {@code driver}, asserting every row; {@code refunded} tells what a successful cancel of
   * a reservation did (for stores, {@link Reservation#refunded()}).
   */
  public static void play(Scenario scenario, Driver driver) {
    List<Reservation> reservations = new ArrayList<>();
    for (Request r : scenario.requests()) {
      driver.advanceTo(r.t());
      String where = scenario.limit() + ", line " + r.line();
      switch (r.op()) {
        case DECIDE -> org.assertj.core.api.Assertions.assertThat(driver.decide(r.cost())).as(where)
            .isEqualTo(r.expected());
        case RESERVE -> {
          Reservation res = driver.reserve(r.cost(), r.maxWaitNanos());
          reservations.add(res);
          org.assertj.core.api.Assertions.assertThat(res.decision()).as(where).isEqualTo(r.expected());
          org.assertj.core.api.Assertions.assertThat(res.isGranted()).as(where + ": granted")
              .isEqualTo(r.outcome() != Outcome.REFUSED)
              .isEqualTo(res.decision().isAllowed());
          org.assertj.core.api.Assertions.assertThat(res.isReady()).as(where + ": ready")
              .isEqualTo(r.outcome() == Outcome.READY);
        }
        case CANCEL -> {
          Reservation res = reservations.get(r.reservation() - 1);
          boolean cancelled = res.cancel();
          org.assertj.core.api.Assertions.assertThat(cancelled).as(where + ": cancelled")
              .isEqualTo(r.cancel() != Cancel.NONE);
          org.assertj.core.api.Assertions.assertThat(res.refunded().join()).as(where + ": refunded")
              .isEqualTo(r.cancel() == Cancel.REFUNDED);
        }
      }
    }
  }

  private Vectors() {}
}
