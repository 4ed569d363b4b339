package dev.throttle.cli;

import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code throttle demo}: for now, the in-process limiter on its own. The batch-through-an-API demo of the seeds
 * comes with the throttled HTTP client.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Runs a demonstration with no set-up.",
        "Until the HTTP client lands (the full demo: a mock API and a batch of requests), this shows the in-process "
            + "limiter: several threads acquire through one limiter and the achieved rate is printed."
    })
final class DemoCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--limit", defaultValue = "20/s burst 5", description = "The limit (default: ${DEFAULT-VALUE}).")
  String limit;

  @Option(names = "--requests", defaultValue = "65", description = "Acquisitions in all (default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--threads", defaultValue = "8", description = "Threads acquiring (default: ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() throws Exception {
    Limit parsed;
    try {
      parsed = Limit.parse(limit);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--limit: " + e.getMessage());
    }
    if (requests < 1 || threads < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--requests and --threads must be at least 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT, "throttle demo: %d acquisitions by %d threads through one limiter of '%s'%n",
        requests, threads, parsed);
    out.flush();
    RateLimiter limiter = RateLimiter.of(parsed);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long start = System.nanoTime();
    List<Future<Long>> done = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      done.add(pool.submit(() -> {
        limiter.acquire();
        return System.nanoTime();
      }));
    }
    long last = start;
    for (Future<Long> f : done) {
      last = Math.max(last, f.get());
    }
    pool.shutdown();
    double seconds = (last - start) / 1e9;
    long burst = parsed.maxCost();
    double ratePerSecond = parsed.bandwidths().get(0).amount() * 1e9 / parsed.bandwidths().get(0).periodNanos();
    out.printf(Locale.ROOT, "[%d] acquisitions in [%.3f] seconds: the burst of %d at once, then %d at %.2f/s "
        + "(the limit allows %.2f/s)%n", requests, seconds, Math.min(burst, requests),
        Math.max(0, requests - burst), seconds > 0 ? (requests - Math.min(burst, requests)) / seconds : 0.0,
        ratePerSecond);
    out.println("The full demo (a mock API and a batch of requests through the throttled HTTP client) is not yet "
        + "available.");
    return 0;
  }
}
