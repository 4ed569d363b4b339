package dev.throttle.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a section prints: lines and aligned tables on standard output, the same in {@code <out>/<section>.txt}, and
 * its targets (met or missed, with the figure) in {@code <out>/targets.txt} for the summary that
 * {@code ./scripts/bench} prints at the end. {@code <out>} is {@code $THROTTLE_BENCH_OUT}, by default
 * {@code target/bench}.
 */
final class Report {

  private final String section;
  private final Path dir;
  private final StringBuilder text = new StringBuilder();

  Report(String section) {
    this.section = section;
    String out = System.getenv("THROTTLE_BENCH_OUT");
    this.dir = Path.of(out == null || out.isEmpty() ? "target/bench" : out);
  }

  /** The section's name, as in the names of its files. */
  String section() {
    return section;
  }

  /** The directory where sections write their results and JMH logs. */
  Path dir() {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  void line(String format, Object... args) {
    String s = args.length == 0 ? format : String.format(Locale.ROOT, format, args);
    System.out.println(s);
    System.out.flush();
    text.append(s).append('\n');
  }

  /** A table: the first row is the header; the first column is left-aligned, the others right-aligned. */
  void table(List<List<String>> rows) {
    int columns = rows.stream().mapToInt(List::size).max().orElse(0);
    int[] width = new int[columns];
    for (List<String> row : rows) {
      for (int c = 0; c < row.size(); c++) {
        width[c] = Math.max(width[c], row.get(c).length());
      }
    }
    for (List<String> row : rows) {
      StringBuilder s = new StringBuilder();
      for (int c = 0; c < row.size(); c++) {
        String cell = row.get(c);
        String pad = " ".repeat(width[c] - cell.length());
        s.append(c == 0 ? cell + pad : "  " + pad + cell);
      }
      line(s.toString().stripTrailing());
    }
  }

  /** Records a target of the issue: met or missed, with the figure that decides it. */
  void target(boolean met, String format, Object... args) {
    String s = (met ? "met     " : "MISSED  ") + section + ": " + String.format(Locale.ROOT, format, args);
    line("  " + s);
    append("targets.txt", s + "\n");
  }

  /** Writes what was printed to {@code <out>/<section>.txt}. */
  void save() {
    try {
      Files.writeString(dir().resolve(section + ".txt"), text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void append(String file, String s) {
    try {
      Files.writeString(dir().resolve(file), s, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<String> row(Object... cells) {
    List<String> row = new ArrayList<>();
    for (Object cell : cells) {
      row.add(String.valueOf(cell));
    }
    return row;
  }

  /** A figure with three significant digits at most, readable in a table. */
  static String num(double x) {
    if (Double.isNaN(x)) {
      return "n/a";
    }
    double a = Math.abs(x);
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", x);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", x);
    }
    return String.format(Locale.ROOT, "%.2f", x);
  }

  /** A ratio {@code a / b}, as {@code 1.23x}. */
  static String ratio(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "n/a" : String.format(Locale.ROOT, "%.2fx", a / b);
  }

  /**
   * The machine's load average over the last minute, as {@code "load 1.23"}, or {@code "load n/a"} where
   * {@code /proc/loadavg} does not exist: printed beside each figure, since other work on the machine slows some
   * cells of a run more than others.
   */
  static String load() {
    try {
      return "load " + Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "load n/a";
    }
  }

  /** True when {@code --quick} is among the arguments. */
  static boolean quick(String[] args) {
    for (String arg : args) {
      if (arg.equals("--quick")) {
        return true;
      }
    }
    return false;
  }
}
