package dev.throttle.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.throttle.client.BatchListener;
import dev.throttle.client.Demo;
import dev.throttle.client.Learned;
import dev.throttle.client.MockApi;
import dev.throttle.client.Progress;
import dev.throttle.client.Stats;
import dev.throttle.core.Clock;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code throttle demo}: the seeds' problem with no set-up. A mock API allowing N requests per second on a free
 * loopback port, and a batch through the throttled client at that rate; prints the seeds' summary line and how it
 * compares with their published results.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Starts a mock API that allows --allotted requests per second (about 1 s latency) on a free loopback port, "
            + "runs --requests jobs through the throttled HTTP client at that rate with up to --concurrency in "
            + "flight, and prints the seeds' summary line. Takes about 16 s at the defaults.",
        "--api: bursty (a token bucket, burst = rate; 429 with Retry-After), strict (nginx limit_req without burst: "
            + "one request per 1/rate at millisecond granularity, 429 with no field and no Retry-After), "
            + "fixed-window (express-rate-limit's fixed window, IETF draft-10 RateLimit fields on every response).",
        "Throughput = succeeded requests / time from the first request sent to the last response; utilization = "
            + "the shortest time the API's limit allows for the batch (plus one mean latency) / that time, which "
            + "for the bursty API is throughput / allotted."
    })
final class DemoCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--requests", defaultValue = "60", description = "Requests in the batch (default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--allotted", defaultValue = "4",
      description = "Requests per second the mock API allows, burst the same; the client is given this rate "
          + "(default: ${DEFAULT-VALUE}).")
  int allotted;

  @Option(names = "--concurrency",
      description = "Most requests in flight (default: 4 x allotted, 16 at 4/s; by Little's law at least "
          + "allotted x latency are needed to keep up).")
  Integer concurrency;

  @Option(names = "--latency", defaultValue = "1s", converter = DurationConverter.class,
      description = "The mock API's mean latency, spread +-10 %% (default: ${DEFAULT-VALUE}).")
  Duration latency;

  @Option(names = "--api", defaultValue = "bursty", converter = ApiKind.class,
      description = "How the mock API counts: bursty, strict or fixed-window (default: ${DEFAULT-VALUE}).")
  MockApi.Kind api;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Option(names = "--plot", paramLabel = "FILE.svg",
      description = "Also draw the batch as an SVG timeline: per 100 ms, requests sent, answered 2xx, answered 429, "
          + "in flight, and the allowed rate.")
  Path plot;

  @Override
  public Integer call() throws Exception {
    int inFlight = concurrency != null ? concurrency : (int) Math.min(Integer.MAX_VALUE, 4L * allotted);
    Demo demo;
    try {
      demo = Demo.of(requests, allotted, inFlight, latency, 0.1).withApi(api);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!json) {
      out.printf(Locale.ROOT, "throttle demo: %d requests to a mock API that allows %d requests/s (%s, latency "
          + "%s +-10 %%), through the throttled client at %d/s with up to %d in flight%n", requests, allotted,
          describe(api, allotted), DurationConverter.format(latency), allotted, inFlight);
      out.flush();
    }
    Terminal.ProgressBar bar = Terminal.stderrIsTerminal() ? new Terminal.ProgressBar(err) : null;
    Plot.check(spec, plot);
    Timeline timeline = new Timeline(Clock.system());
    Demo.Report report = demo.run(new BatchListener<Void>() {
      @Override
      public void onProgress(Progress progress) {
        if (bar != null) {
          bar.update(progress, false);
        }
      }
    }, timeline);
    if (bar != null) {
      bar.finish();
    }
    Stats s = report.stats();
    if (json) {
      out.println(JSON.std.asString(toJson(report)));
    } else {
      out.println(s.summaryLine());
      out.printf(Locale.ROOT, "utilization %.1f %% of what the API allows (%d rps, %s: %.2f s at best); %d "
          + "answered 429 by the API; %d failed; %d lost; latency p50 %d ms, p90 %d ms, p99 %d ms, max %d ms%n",
          100 * report.utilization(), allotted, api.name().toLowerCase(Locale.ROOT).replace('_', '-'),
          report.demo().shortestElapsed().toNanos() / 1e9, report.api429(), s.failed(), report.lost(),
          s.latencyPercentile(50).toMillis(), s.latencyPercentile(90).toMillis(), s.latencyPercentile(99).toMillis(),
          s.maxLatency().toMillis());
      out.println("learned: " + report.learned().describe());
      // The seeds' figures as they published them (36 and 60 requests at 4 rps allotted).
      out.printf(Locale.ROOT, "The seeds' published results at 4 rps allotted: 3.14 rps (78 %%) with a thread per "
          + "rps, 3.75 rps (94 %%) with a token bucket, a refill thread and a 1/n sleep loop; here %.2f rps (%.1f %%)."
          + "%n", s.throughput(), 100 * report.utilization());
    }
    out.flush();
    if (plot != null) {
      Plot.write(spec, plot, "throttle demo: " + requests + " requests, mock API allowing " + allotted + "/s ("
          + api.name().toLowerCase(Locale.ROOT).replace('_', '-') + "), up to " + inFlight + " in flight",
          timeline, allotted);
    }
    return s.failed() == 0 && report.lost() == 0 ? 0 : 1;
  }

  private static Map<String, Object> toJson(Demo.Report r) {
    Stats s = r.stats();
    Map<String, Object> latency = new LinkedHashMap<>();
    latency.put("p50", millis(s.latencyPercentile(50)));
    latency.put("p90", millis(s.latencyPercentile(90)));
    latency.put("p99", millis(s.latencyPercentile(99)));
    latency.put("max", millis(s.maxLatency()));
    latency.put("mean", millis(s.meanLatency()));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("requests", r.demo().requests());
    m.put("succeeded", s.succeeded());
    m.put("failed", s.failed());
    m.put("lost", r.lost());
    m.put("api_429", r.api429());
    m.put("attempts", s.attempts());
    m.put("elapsed_s", round(s.elapsed().toNanos() / 1e9, 3));
    m.put("throughput_rps", round(s.throughput(), 3));
    m.put("allotted_rps", r.demo().allotted());
    m.put("api", r.demo().api().name().toLowerCase(Locale.ROOT).replace('_', '-'));
    m.put("shortest_elapsed_s", round(r.demo().shortestElapsed().toNanos() / 1e9, 3));
    m.put("utilization", round(r.utilization(), 4));
    m.put("concurrency", r.demo().concurrency());
    m.put("latency_ms", latency);
    m.put("learned", learnedJson(r.learned()));
    return m;
  }

  /** What the client learned, as JSON (also {@code throttle fetch}'s). */
  static Map<String, Object> learnedJson(Learned l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rate_rps", round(l.rate(), 3));
    m.put("rate_source", l.rateSource());
    m.put("server_burst", l.serverBurst().orElse(null));
    m.put("fixed_window", l.fixedWindow());
    m.put("spacing", l.spacing());
    m.put("margin", round(l.margin(), 4));
    m.put("fields", l.fields().orElse(null));
    m.put("refused_early", l.refusedEarly());
    m.put("refused_quota_spent", l.refusedSpent());
    return m;
  }

  private static String describe(MockApi.Kind api, int allotted) {
    return switch (api) {
      case BURSTY -> "a token bucket, burst " + allotted;
      case STRICT -> "strict, no burst, one per " + (1000 / allotted) + " ms, no rate-limit fields";
      case FIXED_WINDOW -> "a fixed window of " + allotted + " per second, draft-10 fields";
    };
  }

  /** {@code --api}: bursty, strict, fixed-window. */
  static final class ApiKind implements CommandLine.ITypeConverter<MockApi.Kind> {
    @Override
    public MockApi.Kind convert(String value) {
      for (MockApi.Kind k : MockApi.Kind.values()) {
        if (k.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(value)) {
          return k;
        }
      }
      throw new CommandLine.TypeConversionException("'" + value + "' is not an API kind; use bursty, strict or "
          + "fixed-window");
    }
  }

  static double millis(Duration d) {
    return round(d.toNanos() / 1e6, 1);
  }

  static double round(double x, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(x * f) / f;
  }
}
