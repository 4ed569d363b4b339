package dev.throttle.http.servlet;

import dev.throttle.http.JsonReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code src/test/node/parse-headers.mjs}: Node's own HTTP client sends the requests, and two npm parsers we did
 * not write read the rate-limit fields of each response: {@code structured-headers} (RFC 9651) and
 * {@code ratelimit-header-parser} (from the express-rate-limit project). {@code scripts/ensure-node-packages} (run by
 * {@code scripts/test}) installs them; without them the test fails saying so, it is never skipped.
 */
final class NodeParsers {

  private static final Path DIR = Path.of(System.getProperty("basedir", "."), "src", "test", "node");

  private NodeParsers() {}

  /** What the parsers made of {@code count} GET responses from {@code url}, in order (one map per response). */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> get(String url, int count) throws IOException, InterruptedException {
    if (!Files.isDirectory(DIR.resolve("node_modules/ratelimit-header-parser"))
        || !Files.isDirectory(DIR.resolve("node_modules/structured-headers"))) {
      throw new AssertionError("the npm parsers are not installed in " + DIR + "/node_modules: run "
          + "./scripts/ensure-node-packages (./scripts/test does it before Maven)");
    }
    Process p;
    try {
      p = new ProcessBuilder("node", "parse-headers.mjs", url, Integer.toString(count)).directory(DIR.toFile())
          .redirectError(ProcessBuilder.Redirect.PIPE).start();
    } catch (IOException e) {
      throw new AssertionError("cannot run node (" + e.getMessage() + "): install Node.js 18 or newer, or run "
          + "./scripts/ensure-node-packages", e);
    }
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("node parse-headers.mjs did not finish within 60 s");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError("node parse-headers.mjs exited " + p.exitValue() + ": "
          + new String(err, StandardCharsets.UTF_8));
    }
    return (List<Map<String, Object>>) JsonReader.parse(new String(out, StandardCharsets.UTF_8).strip());
  }
}
