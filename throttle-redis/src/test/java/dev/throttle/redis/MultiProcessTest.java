package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Several processes (JVMs, not threads) hammering one key: on Redis's clock, every window of every length holds at
 * most {@code burst + floor(rate * length)} grants, summed over the processes; and the limit is really reached.
 */
class MultiProcessTest {

  private static final int PROCESSES = 3;
  private static final long RATE = 200; // per second
  private static final long BURST = 10;

  @Test
  void theWindowBoundHoldsAcrossProcesses() throws Exception {
    try (RedisServer server = RedisServer.start()) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      long startAt = System.currentTimeMillis() + 3_000;
      List<Process> processes = new ArrayList<>();
      List<Path> errors = new ArrayList<>();
      try {
        for (int p = 0; p < PROCESSES; p++) {
          Path err = Files.createTempFile("hammer-", ".err");
          errors.add(err);
          processes.add(new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
              "-cp", System.getProperty("java.class.path"), Hammer.class.getName(), server.uri(), "multi:",
              RATE + "/s burst " + BURST, "hot", Long.toString(startAt), "2000", "4")
              .redirectError(err.toFile())
              .start());
        }
        List<List<Long>> grants = new ArrayList<>();
        for (int p = 0; p < PROCESSES; p++) {
          Process process = processes.get(p);
          String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
          assertThat(process.exitValue()).as("process %d: %s", p, read(errors.get(p))).isZero();
          List<Long> mine = new ArrayList<>();
          for (String line : out.split("\n")) {
            if (line.startsWith("grant ")) {
              mine.add(Long.parseLong(line.substring(6)));
            } else if (line.startsWith("failures ")) {
              assertThat(line).as("process %d", p).isEqualTo("failures 0");
            }
          }
          assertThat(mine).as("process %d got grants", p).isNotEmpty();
          grants.add(mine);
        }
        List<Long> all = new ArrayList<>();
        grants.forEach(all::addAll);
        all.sort(null);
        // Every window [t_i, t_j]: j - i + 1 grants, at most BURST + floor(RATE * (t_j - t_i)) (microseconds).
        for (int i = 0; i < all.size(); i++) {
          for (int j = i; j < all.size(); j++) {
            long bound = BURST + RATE * (all.get(j) - all.get(i)) / 1_000_000;
            if (j - i + 1 > bound) {
              throw new AssertionError((j - i + 1) + " grants between " + all.get(i) + " and " + all.get(j)
                  + " us, more than the bound " + bound);
            }
          }
        }
        double seconds = (all.get(all.size() - 1) - all.get(0)) / 1e6;
        assertThat(seconds).isGreaterThan(1.0);
        assertThat((double) all.size()).as("the callers really reached the limit")
            .isGreaterThanOrEqualTo(0.9 * RATE * seconds);
      } finally {
        for (Process p : processes) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
        for (Path e : errors) {
          Files.deleteIfExists(e);
        }
      }
    }
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p);
  }
}
