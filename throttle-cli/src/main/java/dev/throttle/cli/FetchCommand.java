package dev.throttle.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.throttle.client.AttemptListener;
import dev.throttle.client.Batch;
import dev.throttle.client.BatchListener;
import dev.throttle.client.BatchRunner;
import dev.throttle.client.Job;
import dev.throttle.client.JobResult;
import dev.throttle.client.Outcome;
import dev.throttle.client.Progress;
import dev.throttle.client.RetryPolicy;
import dev.throttle.client.Stats;
import dev.throttle.client.ThrottledHttpClient;
import dev.throttle.core.Clock;
import dev.throttle.core.Limit;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code throttle fetch}: the batch client for real use. */
@Command(
    name = "fetch",
    mixinStandardHelpOptions = true,
    description = {
        "Sends every request of the input through the throttled HTTP client and writes one JSON line per input line, "
            + "in input order: id, url, outcome, status, attempts, latency_ms, error, and the body (or the file it "
            + "was saved to).",
        "Input: one URL per line, or JSON lines {\"id\":..., \"method\":..., \"url\":..., \"headers\":{...}, "
            + "\"body\":...}; blank lines and lines starting with # are skipped.",
        "Exit code: 0 when every request succeeded (2xx), 1 when some failed after their attempts (or were "
            + "cancelled by Ctrl-C), 2 for usage errors (nothing is sent).",
        "Ctrl-C stops cleanly: requests not yet done are written as cancelled; none is missing from the output."
    })
final class FetchCommand implements Callable<Integer> {

  /** Every field on every line, {@code null} included, so that a reader finds the same keys on each. */
  private static final JSON JSON_WITH_NULLS = JSON.std.with(JSON.Feature.WRITE_NULL_PROPERTIES);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "FILE",
      description = "The input file; standard input when absent or '-'.")
  String input;

  @Option(names = "--rate", required = true,
      description = "The limit to keep to, in the limit grammar: 4/s, 100/s burst 20, 6000/min, 10/s and 1000/h; "
          + "or auto: learn it from the server's RateLimit fields, else from its 429s (adaptive).")
  String rate;

  @Option(names = "--concurrency", defaultValue = "16", description = "Most requests in flight (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--max-attempts", defaultValue = "5",
      description = "Attempts per request, retries included (default: ${DEFAULT-VALUE}).")
  int maxAttempts;

  @Option(names = "--timeout", defaultValue = "30s", converter = DurationConverter.class,
      description = "Timeout of each attempt (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--adaptive",
      description = "Lower the rate on a 429 and climb back slowly (AIMD), for an API whose limit is unknown; --rate "
          + "is then the ceiling.")
  boolean adaptive;

  @Option(names = "--output", paramLabel = "FILE", description = "Where the JSON lines go (default: standard output).")
  Path output;

  @Option(names = "--save-dir", paramLabel = "DIR",
      description = "Write each response body to a file in DIR (named <line>-<id>) instead of into the output.")
  Path saveDir;

  @Option(names = "--plot", paramLabel = "FILE.svg",
      description = "Also draw the batch as an SVG timeline: per 100 ms, requests sent, answered 2xx, answered 429, "
          + "in flight, and the rate kept to (--rate, or the rate learned).")
  Path plot;

  @Option(names = "--progress", negatable = true,
      description = "A progress bar on standard error (default: when standard error is a terminal).")
  Boolean progress;

  @Override
  public Integer call() throws Exception {
    CommandLine cl = spec.commandLine();
    Limit limit = null;
    try {
      if (!rate.equals("auto")) {
        limit = Limit.parse(rate);
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--rate: " + e.getMessage());
    }
    if (concurrency < 1) {
      throw new CommandLine.ParameterException(cl, "--concurrency must be at least 1, got " + concurrency);
    }
    if (maxAttempts < 1) {
      throw new CommandLine.ParameterException(cl, "--max-attempts must be at least 1, got " + maxAttempts);
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new CommandLine.ParameterException(cl, "--timeout must be positive, got " + timeout);
    }
    if (saveDir != null) {
      try {
        Files.createDirectories(saveDir);
      } catch (IOException e) {
        throw new CommandLine.ParameterException(cl, "--save-dir: cannot create " + saveDir + " (" + e + ")");
      }
    }
    Plot.check(spec, plot);
    List<FetchInput.Line> lines;
    try (BufferedReader in = input == null || input.equals("-")
        ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
        : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8)) {
      lines = FetchInput.read(in, timeout);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new CommandLine.ParameterException(cl, "FILE: no such file: " + input);
    } catch (FetchInput.BadLine e) {
      throw new CommandLine.ParameterException(cl, e.getMessage() + (input == null ? "" : " of " + input));
    }

    PrintWriter err = cl.getErr();
    boolean showProgress = progress != null ? progress : Terminal.stderrIsTerminal();
    Terminal.ProgressBar bar = showProgress ? new Terminal.ProgressBar(err) : null;
    Writer out = output == null
        ? new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8))
        : Files.newBufferedWriter(output, StandardCharsets.UTF_8);
    RetryPolicy policy = RetryPolicy.builder().maxAttempts(maxAttempts).build();
    List<Job> jobs = new ArrayList<>(lines.size());
    for (FetchInput.Line l : lines) {
      jobs.add(Job.of(String.valueOf(l.id()), l.request()));
    }
    Timeline timeline = new Timeline(Clock.system());
    ThrottledHttpClient.Builder builder = (limit == null ? ThrottledHttpClient.builder()
        : ThrottledHttpClient.builder(limit)).maxInFlight(concurrency).retryPolicy(policy).adaptive(adaptive);
    if (plot != null) {
      // the same HttpClient the throttled client would build, observed
      builder.httpClient(AttemptListener.observing(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
          .connectTimeout(Duration.ofSeconds(10)).build(), timeline));
    }
    try (ThrottledHttpClient client = builder.build()) {
      Batch batch = BatchRunner.start(client, jobs.iterator(), HttpResponse.BodyHandlers.ofByteArray(),
          new BatchListener<byte[]>() {
            @Override
            public void onResult(JobResult<byte[]> result) {
              write(out, lines.get((int) result.index()), result.outcome());
            }

            @Override
            public void onProgress(Progress p) {
              if (bar != null) {
                bar.update(p, p.inputComplete() && p.done() == p.submitted());
              }
            }
          });
      // Ctrl-C (SIGINT) or SIGTERM: cancel the batch; every job still gets its line, the summary is printed and the
      // exit code is 1 (some requests were cancelled), as the help says. A handler, not a shutdown hook: a hook runs
      // while the JVM is already exiting with 130 (143), too late to print the summary or choose the code.
      List<Signals.Registration> signals = Signals.onInterrupt(batch::cancel);
      Stats stats;
      try {
        stats = batch.completion().join();
      } finally {
        signals.forEach(Signals.Registration::restore);
      }
      out.flush();
      if (output != null) {
        out.close();
      }
      if (bar != null) {
        bar.finish();
      }
      err.println(stats.summaryLine());
      err.println("by status: " + describe(stats.byStatusCode()) + "; attempts " + stats.attempts());
      err.println("learned: " + client.learned().describe());
      err.flush();
      if (plot != null) {
        double allowed = limit != null ? perSecond(limit) : client.learned().rate();
        Plot.write(spec, plot, "throttle fetch: " + lines.size() + " requests at " + (limit != null ? limit
            : "a learned " + DemoCommand.round(allowed, 2) + "/s") + ", up to " + concurrency + " in flight",
            timeline, allowed);
      }
      return stats.succeeded() == stats.jobs() ? 0 : 1;
    }
  }

  private void write(Writer out, FetchInput.Line line, Outcome<byte[]> o) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", line.id());
    m.put("url", line.url().toString());
    m.put("outcome", o.status().name().toLowerCase(java.util.Locale.ROOT));
    m.put("status", o.statusCode() == 0 ? null : o.statusCode());
    m.put("attempts", o.attempts());
    m.put("latency_ms", DemoCommand.millis(o.latency()));
    m.put("error", o.error().orElse(null));
    byte[] body = o.response().map(HttpResponse::body).orElse(null);
    if (body != null) {
      if (saveDir != null) {
        Path file = saveDir.resolve(fileName(line));
        try {
          Files.write(file, body);
          m.put("file", file.toString());
        } catch (IOException e) {
          m.put("error", (o.error().map(s -> s + "; ").orElse("")) + "cannot write " + file + ": " + e.getMessage());
        }
      } else {
        m.put("body", new String(body, StandardCharsets.UTF_8));
      }
    }
    try {
      out.write(JSON_WITH_NULLS.asString(m));
      out.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the output", e);
    }
  }

  /** The slowest of the limit's rates, in requests per second (what a long batch can keep to). */
  static double perSecond(Limit limit) {
    return limit.bandwidths().stream().mapToDouble(b -> b.amount() * 1e9 / b.periodNanos()).min().orElse(0);
  }

  static String fileName(FetchInput.Line line) {
    String id = String.valueOf(line.id()).replaceAll("[^A-Za-z0-9._-]", "_");
    if (id.length() > 100) {
      id = id.substring(0, 100);
    }
    return line.lineNumber() + "-" + id;
  }

  private static String describe(Map<Integer, Long> byStatus) {
    StringBuilder sb = new StringBuilder();
    byStatus.forEach((code, n) -> {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(code == 0 ? "no response" : code.toString()).append(": ").append(n);
    });
    return sb.length() == 0 ? "nothing" : sb.toString();
  }

}
