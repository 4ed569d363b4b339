package dev.throttle.client;

import dev.throttle.core.Limit;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.ArrayList;
import java.util.List;

/**
 * One JVM of {@link SharedQuotaTest}: a {@link ThrottledHttpClient} on one key of a Redis quota, which sends a few
 * requests to {@code <server>/warm-up/...}, prints {@code ready}, waits for a line on its standard input (the
 * start, given to both JVMs at once), sends {@code count} requests to {@code <server>/<name>/<i>}, then prints
 * {@code succeeded N}. Arguments: Redis URI, server URI, name, count, limit.
 */
public final class SharedQuotaChild {

  private SharedQuotaChild() {}

  public static void main(String[] args) throws Exception {
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
        java.nio.charset.StandardCharsets.UTF_8));
    System.exit(run(args[0], args[1], args[2], Integer.parseInt(args[3]), args[4], () -> {
      System.out.println("ready");
      System.out.flush();
      in.readLine();
    }));
  }

  /** What a JVM does between its warm-up and its run. */
  interface Start {
    void await() throws Exception;
  }

  static int run(String redisUri, String server, String name, int count, String limit, Start start)
      throws Exception {
    try (RedisLimits redis = RedisLimits.connect(redisUri)) {
      // A timeout that a loaded machine meets: this test is about the shared quota, not about the failure policy
      // (a fail-closed refusal would only slow the client down: it asks again after the refusal's wait).
      RedisRateLimiter<String> quotas = redis.limiter(Limit.parse(limit)).prefix("shared-quota:")
          .timeout(java.time.Duration.ofSeconds(1)).build();
      List<Job> jobs = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        jobs.add(Job.of(name + "-" + i, HttpRequest.newBuilder(URI.create(server + "/" + name + "/" + i)).build()));
      }
      try (ThrottledHttpClient client = ThrottledHttpClient.builder(quotas, "partner-api").maxInFlight(8)
          .version(HttpClient.Version.HTTP_1_1).build()) {
        // Warm the JVM's HTTP client and its connections first (not counted by the test): a cold JVM's first
        // requests reach the server tens of milliseconds late and then arrive bunched with the next ones, which is
        // the jitter margin's business (a client's own bucket), not the shared quota's.
        List<Job> warmUp = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          warmUp.add(Job.of("warm-up", HttpRequest.newBuilder(URI.create(server + "/warm-up/" + name + "/" + i)).build()));
        }
        BatchRunner.run(client, warmUp, BodyHandlers.discarding());
        start.await(); // both JVMs start together: the test is about their combined rate
        BatchResult<Void> done = BatchRunner.run(client, jobs, BodyHandlers.discarding());
        System.out.println("succeeded " + done.stats().succeeded());
        System.out.println("from redis " + quotas.stats().fromRedis() + ", degraded " + quotas.stats().degraded());
        return done.stats().succeeded() == count ? 0 : 1;
      }
    }
  }
}
