package dev.throttle.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads spec/bucket-vectors.txt, the table of expected decisions shared with the Redis script. */
public final class Vectors {

  public record Request(long t, long cost, Decision expected, int line) {}

  public record Scenario(String limit, List<Request> requests) {
    @Override
    public String toString() {
      return limit;
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
        scenarios.add(new Scenario(line.substring("limit ".length()), current));
        continue;
      }
      String[] w = line.split("\\s+");
      if (w.length != 7 || !w[2].equals("->") || current == null) {
        throw new IllegalStateException("bad vector line " + (i + 1) + ": " + line);
      }
      long remaining = Long.parseLong(w[4]);
      long wait = Long.parseLong(w[5]);
      long reset = Long.parseLong(w[6]);
      Decision expected = switch (w[3]) {
        case "allowed" -> Decision.allowed(remaining, reset);
        case "refused" -> Decision.refused(remaining, wait, reset);
        default -> throw new IllegalStateException("bad outcome on line " + (i + 1) + ": " + w[3]);
      };
      current.add(new Request(Long.parseLong(w[0]), Long.parseLong(w[1]), expected, i + 1));
    }
    return scenarios;
  }

  private Vectors() {}
}
