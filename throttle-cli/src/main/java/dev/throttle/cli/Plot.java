package dev.throttle.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/** {@code --plot FILE.svg} of {@code demo} and {@code fetch}: checked before the batch, written after it. */
final class Plot {

  private Plot() {}

  /** Fails as a usage error (before anything is sent) when {@code file}'s directory does not exist. */
  static void check(CommandLine.Model.CommandSpec spec, Path file) {
    if (file == null) {
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--plot: the directory of " + file + " does not exist");
    }
    if (Files.isDirectory(file)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--plot: " + file + " is a directory, not a file");
    }
  }

  static void write(CommandLine.Model.CommandSpec spec, Path file, String title, Timeline timeline,
      double allowedPerSecond) {
    try {
      SvgPlot.write(file, title, timeline.bins(), allowedPerSecond);
      spec.commandLine().getErr().println("plot written to " + file);
    } catch (IOException e) {
      spec.commandLine().getErr().println("--plot: cannot write " + file + ": " + e);
    }
    spec.commandLine().getErr().flush();
  }
}
