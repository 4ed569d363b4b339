package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Prometheus's own checker of the text format, {@code promtool check metrics}, run on a scraped body. */
final class Promtool {

  private Promtool() {}

  static Path find() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir, "promtool");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new AssertionError("promtool is not installed (it checks /metrics as Prometheus reads it): run "
        + "scripts/ensure-promtool, or apt-get install prometheus");
  }

  /** Fails with promtool's output unless it accepts {@code text} with no problem at all (lint included). */
  static void check(String text) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(find().toString(), "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(text.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("promtool ended").isTrue();
    assertThat(p.exitValue()).as("promtool check metrics said:\n%s\non:\n%s", out, text).isZero();
    assertThat(out.strip()).as("promtool check metrics found problems").isEmpty();
  }
}
