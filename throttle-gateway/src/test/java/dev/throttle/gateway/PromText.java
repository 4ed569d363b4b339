package dev.throttle.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the samples of a Prometheus text exposition (format 0.0.4) — name, labels (in any order, escapes undone),
 * value — so that tests ask for a sample by its name and labels, not by how a writer happens to order or format them.
 */
final class PromText {

  record Sample(String name, Map<String, String> labels, double value) {}

  private PromText() {}

  static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int i = 0;
      while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
        i++;
      }
      String name = line.substring(0, i);
      Map<String, String> labels = new TreeMap<>();
      if (i < line.length() && line.charAt(i) == '{') {
        i++;
        while (line.charAt(i) != '}') {
          int eq = line.indexOf('=', i);
          String key = line.substring(i, eq).strip();
          StringBuilder v = new StringBuilder();
          int j = eq + 2; // past ="
          for (; line.charAt(j) != '"'; j++) {
            char c = line.charAt(j);
            if (c == '\\') {
              char n = line.charAt(++j);
              v.append(n == 'n' ? '\n' : n);
            } else {
              v.append(c);
            }
          }
          labels.put(key, v.toString());
          i = j + 1;
          if (line.charAt(i) == ',') {
            i++;
          }
        }
        i++;
      }
      String[] rest = line.substring(i).strip().split(" ");
      out.add(new Sample(name, labels, parseValue(rest[0])));
    }
    return out;
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }

  /**
   * The value of the sample {@code name} with exactly the labels {@code pairs} (key, value, key, value, ...).
   *
   * @throws AssertionError naming what was asked for, when there is no such sample
   */
  static double value(String text, String name, String... pairs) {
    Map<String, String> want = new TreeMap<>();
    for (int k = 0; k < pairs.length; k += 2) {
      want.put(pairs[k], pairs[k + 1]);
    }
    for (Sample s : parse(text)) {
      if (s.name().equals(name) && s.labels().equals(want)) {
        return s.value();
      }
    }
    throw new AssertionError("no sample " + name + want + " in:\n" + text);
  }

  /** Whether there is a sample {@code name} with these labels. */
  static boolean has(String text, String name, String... pairs) {
    try {
      value(text, name, pairs);
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }
}
