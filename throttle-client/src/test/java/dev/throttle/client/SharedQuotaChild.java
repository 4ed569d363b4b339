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
 * One JVM of {@link SharedQuotaTest}: a {@link ThrottledHttpClient} on one key of a Redis quota, sending
 * {@code count} requests to {@code <server>/<name>/<i>} from the Unix time {@code startAt} (ms) on, after a few to
 * {@code <server>/warm-up/...} before it, then printing
 * {@code succeeded N}. Arguments: Redis URI, server URI, name, count, startAt, limit.
 */
public final class SharedQuotaChild {

  private SharedQuotaChild() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args[0], args[1], args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]), args[5]));
  }

  static int run(String redisUri, String server, String name, int count, long startAt, String limit)
      throws Exception {
    try (RedisLimits redis = RedisLimits.connect(redisUri)) {
      RedisRateLimiter<String> quotas = redis.limiter(Limit.parse(limit)).prefix("shared-quota:").build();
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
        long wait = startAt - System.currentTimeMillis();
        if (wait > 0) {
          Thread.sleep(wait); // both JVMs start together: the test is about their combined rate
        }
        BatchResult<Void> done = BatchRunner.run(client, jobs, BodyHandlers.discarding());
        System.out.println("succeeded " + done.stats().succeeded());
        System.out.println("from redis " + quotas.stats().fromRedis() + ", degraded " + quotas.stats().degraded());
        return done.stats().succeeded() == count ? 0 : 1;
      }
    }
  }
}
