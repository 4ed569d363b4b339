package dev.throttle.client;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The seeds' problem, end to end, with no set-up: a {@link MockApi} allowing {@code allotted} requests per second
 * on a free loopback port, and {@code requests} jobs through a {@link ThrottledHttpClient} limited to the same rate
 * (burst the same) with up to {@code concurrency} in flight. What {@code throttle demo} runs.
 *
 * <p>Before the batch, requests to the API's {@code /health} (outside its limit and counts) warm the JVM's HTTP
 * stack (class loading, connections); they take slots from the client's throttle, so the batch then waits a second
 * for the client's bucket to fill, like the API's. They are not counted in the results nor in the elapsed time.
 */
public final class Demo {

  private final int requests;
  private final int allotted;
  private final int concurrency;
  private final Duration latency;
  private final double spread;
  private final MockApi.Kind api;

  private Demo(int requests, int allotted, int concurrency, Duration latency, double spread, MockApi.Kind api) {
    this.requests = requests;
    this.allotted = allotted;
    this.concurrency = concurrency;
    this.latency = latency;
    this.spread = spread;
    this.api = api;
  }

  /** The same demo against an API that counts as {@code api} does. */
  public Demo withApi(MockApi.Kind api) {
    return new Demo(requests, allotted, concurrency, latency, spread, Objects.requireNonNull(api, "api"));
  }

  /** How the mock API counts (default {@link MockApi.Kind#BURSTY}). */
  public MockApi.Kind api() {
    return api;
  }

  /**
   * The shortest time the API's limit allows for the batch, from the first request sent to the last response: the
   * time its limit needs to admit every request from a fresh start, plus one mean latency. A bucket admits its burst
   * (the allotted rate) at once and the rest at the rate; the strict bucket one per interval; the fixed window the
   * allotted number at the start of each second.
   */
  public Duration shortestElapsed() {
    long n = requests;
    double admit = switch (api) {
      case BURSTY -> Math.max(0, n - allotted) / (double) allotted;
      case STRICT -> (n - 1) / (double) allotted;
      case FIXED_WINDOW -> (double) ((n - 1) / allotted);
    };
    return Duration.ofNanos(Math.round(admit * 1e9)).plus(latency);
  }

  /**
   * A demo configuration.
   *
   * @throws IllegalArgumentException naming the value when one is out of range
   */
  public static Demo of(int requests, int allotted, int concurrency, Duration latency, double spread) {
    if (requests < 1) {
      throw new IllegalArgumentException("--requests must be at least 1, got " + requests);
    }
    if (allotted < 1) {
      throw new IllegalArgumentException("--allotted must be at least 1 request per second, got " + allotted);
    }
    if (concurrency < 1) {
      throw new IllegalArgumentException("--concurrency must be at least 1, got " + concurrency);
    }
    Objects.requireNonNull(latency, "latency");
    if (latency.isNegative() || latency.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("--latency must be between 0 and 1 min, got " + latency.toMillis() + " ms");
    }
    return new Demo(requests, allotted, concurrency, latency, spread, MockApi.Kind.BURSTY);
  }

  public int requests() {
    return requests;
  }

  public int allotted() {
    return allotted;
  }

  public int concurrency() {
    return concurrency;
  }

  public Duration latency() {
    return latency;
  }

  /**
   * Runs it: starts the API, runs the batch, stops both.
   *
   * @param listener progress and results, as for any batch
   * @throws IOException if the API cannot bind a port
   * @throws InterruptedException if interrupted (the batch is cancelled first)
   */
  public Report run(BatchListener<Void> listener) throws IOException, InterruptedException {
    return run(listener, new AttemptListener() {});
  }

  /**
   * Runs it as {@link #run(BatchListener)} does, telling {@code attempts} of every attempt of the batch (retries
   * included; the warm-up's are not told): what {@code throttle demo --plot} draws.
   */
  public Report run(BatchListener<Void> listener, AttemptListener attempts) throws IOException, InterruptedException {
    Objects.requireNonNull(attempts, "attempts");
    AtomicBoolean batchStarted = new AtomicBoolean();
    HttpClient http = AttemptListener.observing(
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(10)).build(),
        new AttemptListener() {
          @Override
          public void onSend(HttpRequest request) {
            if (batchStarted.get()) {
              attempts.onSend(request);
            }
          }

          @Override
          public void onResponse(HttpRequest request, HttpResponse<?> response) {
            if (batchStarted.get()) {
              attempts.onResponse(request, response);
            }
          }

          @Override
          public void onError(HttpRequest request, Throwable error) {
            if (batchStarted.get()) {
              attempts.onError(request, error);
            }
          }
        });
    try (MockApi api = MockApi.builder(allotted).kind(this.api).latency(latency).spread(spread).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(api.limit())
            .maxInFlight(concurrency)
            .httpClient(http)
            .build()) {
      warmUp(client, api, Math.min(allotted, concurrency));
      batchStarted.set(true);
      long rejectedBefore = api.rejected();
      List<Job> jobs = new ArrayList<>(requests);
      for (int i = 0; i < requests; i++) {
        jobs.add(Job.of(Integer.toString(i + 1), HttpRequest.newBuilder(api.uri().resolve("item/" + (i + 1)))
            .timeout(latency.multipliedBy(4).plusSeconds(10)).build()));
      }
      AtomicLong results = new AtomicLong();
      Batch batch = BatchRunner.start(client, jobs.iterator(), HttpResponse.BodyHandlers.discarding(),
          new BatchListener<Void>() {
            @Override
            public void onResult(JobResult<Void> result) {
              results.incrementAndGet();
              listener.onResult(result);
            }

            @Override
            public void onProgress(Progress progress) {
              listener.onProgress(progress);
            }
          });
      Stats stats;
      try {
        stats = batch.completion().join();
      } catch (RuntimeException e) {
        throw new IllegalStateException("the demo's batch failed", e);
      }
      return new Report(this, stats, requests - results.get(), api.rejected() - rejectedBefore, client.learned());
    }
  }

  /**
   * Requests to the API's {@code /health} (outside its limit and counts) through the client's own HTTP stack, as
   * many at once as the first burst will send, so that its connections are open; then a wait until the client's
   * bucket is full again (its burst at its rate: one second), so that the batch starts as fresh as the API.
   */
  private static void warmUp(ThrottledHttpClient client, MockApi api, int parallel) throws InterruptedException {
    HttpRequest health = HttpRequest.newBuilder(api.uri().resolve("health")).build();
    List<CompletableFuture<Outcome<Void>>> calls = new ArrayList<>();
    for (int i = 0; i < parallel; i++) {
      calls.add(client.send(health, HttpResponse.BodyHandlers.discarding()).outcome());
    }
    calls.forEach(CompletableFuture::join);
    Thread.sleep(1000);
  }

  /** What a demo run measured. Immutable. */
  public static final class Report {
    private final Demo demo;
    private final Stats stats;
    private final long lost;
    private final long api429;
    private final Learned learned;

    Report(Demo demo, Stats stats, long lost, long api429, Learned learned) {
      this.demo = demo;
      this.stats = stats;
      this.lost = lost;
      this.api429 = api429;
      this.learned = learned;
    }

    /** What the client learned of the API during the run. */
    public Learned learned() {
      return learned;
    }

    public Demo demo() {
      return demo;
    }

    public Stats stats() {
      return stats;
    }

    /** Jobs that got no result (the batch runner's promise is that this is 0). */
    public long lost() {
      return lost;
    }

    /** 429s the API sent during the batch. */
    public long api429() {
      return api429;
    }

    /**
     * How much of what the API allows the client used: the {@linkplain Demo#shortestElapsed() shortest time the API's
     * limit allows} for the batch divided by the time it took (first request sent to last response). For a long
     * batch against the bucket this is the throughput divided by the allotted rate; unlike that ratio, it does not
     * count against the client the second a strict API makes every batch wait for its last latency.
     */
    public double utilization() {
      long elapsed = stats.elapsed().toNanos();
      // scaled by the share that succeeded, so that failures never look like speed
      return elapsed <= 0 ? 0
          : (double) demo.shortestElapsed().toNanos() / elapsed * stats.succeeded() / demo.requests;
    }
  }
}
