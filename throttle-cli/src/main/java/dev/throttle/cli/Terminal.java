package dev.throttle.cli;

import dev.throttle.client.Progress;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Whether stderr is a terminal, and a one-line progress bar drawn there. */
final class Terminal {

  private Terminal() {}

  /**
   * Whether standard error is a terminal. Java has no direct way to ask: on Linux the answer is where
   * {@code /proc/self/fd/2} points; elsewhere, whether the JVM has a console (stdin and stdout are terminals).
   */
  static boolean stderrIsTerminal() {
    Path fd2 = Path.of("/proc/self/fd/2");
    try {
      if (Files.exists(fd2)) {
        String target = Files.readSymbolicLink(fd2).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
      }
    } catch (Exception e) {
      // not Linux, or not allowed to look: fall back
    }
    return System.console() != null;
  }

  /** A progress bar on one line, redrawn at most ten times a second. */
  static final class ProgressBar {
    private final PrintWriter err;
    private final long startNanos = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintWriter err) {
      this.err = err;
    }

    void update(Progress p, boolean force) {
      long now = System.nanoTime();
      if (!force && drawn && now - lastDraw < 100_000_000L) {
        return;
      }
      lastDraw = now;
      drawn = true;
      long total = Math.max(p.submitted(), 1);
      int width = 30;
      int filled = (int) (width * p.done() / total);
      double seconds = (now - startNanos) / 1e9;
      err.print(String.format(Locale.ROOT, "\r[%s%s] %d/%d%s  ok %d  failed %d  cancelled %d  %.1f/s ",
          "#".repeat(filled), ".".repeat(width - filled), p.done(), p.submitted(), p.inputComplete() ? "" : "+",
          p.succeeded(), p.failed(), p.cancelled(), seconds > 0 ? p.done() / seconds : 0.0));
      err.flush();
    }

    void finish() {
      if (drawn) {
        err.print("\r" + " ".repeat(100) + "\r");
        err.flush();
      }
    }
  }
}
