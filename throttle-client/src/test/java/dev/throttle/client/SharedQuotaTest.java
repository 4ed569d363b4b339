package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import dev.throttle.redis.RedisServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many clients, one quota: {@link ThrottledHttpClient#builder(RateLimiter)} (threads of one JVM) and
 * {@link ThrottledHttpClient#builder(dev.throttle.core.KeyedRateLimiter, Object)} on Redis (two JVMs). Judged from the
 * server's side: a real-socket server records when each request arrived, and every window of arrivals must hold at
 * most {@code burst + rate * (length + slack)} requests, the slack being what the network and a loaded machine may
 * bunch up: one slot (50 ms), so at most one request more than the limit in any window. Two clients each keeping the
 * limit on their own would send twice the rate and fail this by far (35 more in 1.5 s). Each JVM warms its HTTP
 * client before the measured run (see {@link SharedQuotaChild}).
 */
class SharedQuotaTest {

  private static final long RATE = 20; // per second
  private static final long BURST = 5;
  private static final String LIMIT = RATE + "/s burst " + BURST;
  private static final long SLACK_NANOS = TimeUnit.SECONDS.toNanos(1) / RATE;

  @Test
  void twoClientsOnOneLimiterKeepItsRateTogether() throws Exception {
    RateLimiter shared = RateLimiter.of(Limit.parse(LIMIT));
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(200, Map.of(), ""));
        ThrottledHttpClient a = ThrottledHttpClient.builder(shared).version(HttpClient.Version.HTTP_1_1).build();
        ThrottledHttpClient b = ThrottledHttpClient.builder(shared).version(HttpClient.Version.HTTP_1_1).build()) {
      assertThat(a.limit()).contains(Limit.parse(LIMIT));
      CompletableFuture<BatchResult<Void>> first = CompletableFuture.supplyAsync(() -> run(a, server, "a", 25));
      BatchResult<Void> second = run(b, server, "b", 25);
      assertThat(first.join().stats().succeeded()).isEqualTo(25);
      assertThat(second.stats().succeeded()).isEqualTo(25);
      assertCombinedRate(server, 50);
    }
  }

  @Test
  void twoClientsInTwoJvmsOnOneRedisQuotaKeepItsRateTogether() throws Exception {
    int each = 30;
    try (RedisServer redis = RedisServer.start();
        ScriptedServer server = new ScriptedServer(e -> e.respond(200, Map.of(), ""))) {
      String base = server.uri("").toString();
      Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx128m", "-cp", System.getProperty("java.class.path"), SharedQuotaChild.class.getName(), redis.uri(),
          base, "b", Integer.toString(each), LIMIT)
          .redirectErrorStream(true).start();
      try {
        CompletableFuture<Void> ready = new CompletableFuture<>();
        CompletableFuture<String> otherOutput = CompletableFuture.supplyAsync(() -> {
          StringBuilder out = new StringBuilder();
          try (BufferedReader lines = new BufferedReader(new InputStreamReader(other.getInputStream(),
              StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
              out.append(line).append('\n');
              if (line.equals("ready")) {
                ready.complete(null);
              }
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          ready.complete(null); // ended without being ready: its output says why
          return out.toString();
        });
        int mine = SharedQuotaChild.run(redis.uri(), base, "a", each, LIMIT, () -> {
          ready.get(60, TimeUnit.SECONDS); // both warmed up: start both at once
          other.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
          other.getOutputStream().flush();
        });
        assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = otherOutput.join();
        assertThat(other.exitValue()).as(out).isZero();
        assertThat(mine).isZero();
        assertThat(out).contains("succeeded " + each);
      } finally {
        other.destroyForcibly();
      }
      assertCombinedRate(server, 2 * each);
    }
  }

  private static BatchResult<Void> run(ThrottledHttpClient client, ScriptedServer server, String name, int count) {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      jobs.add(Job.of(name + i, server.get("/" + name + "/" + i)));
    }
    try {
      return BatchRunner.run(client, jobs, BodyHandlers.discarding());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Every window of arrivals at the server holds the one limit; both clients sent throughout; the rate was used. */
  private static void assertCombinedRate(ScriptedServer server, int total) {
    List<ScriptedServer.Exchange> all = new ArrayList<>(server.exchanges());
    all.removeIf(e -> e.path.startsWith("/warm-up/"));
    assertThat(all).hasSize(total);
    all.sort((x, y) -> Long.compare(x.arrived, y.arrived));
    for (int i = 0; i < all.size(); i++) {
      for (int j = i; j < all.size(); j++) {
        long length = all.get(j).arrived - all.get(i).arrived;
        long bound = BURST + RATE * (length + SLACK_NANOS) / 1_000_000_000L;
        if (j - i + 1 > bound) {
          StringBuilder timeline = new StringBuilder();
          for (ScriptedServer.Exchange e : all) {
            timeline.append(String.format(java.util.Locale.ROOT, "%n  %7.1f ms %s", (e.arrived - all.get(0).arrived) / 1e6,
                e.path));
          }
          throw new AssertionError((j - i + 1) + " requests arrived within " + length / 1_000_000 + " ms (from the "
              + (i + 1) + "th), more than " + bound + " (" + LIMIT + " shared by both clients):" + timeline);
        }
      }
    }
    // Both clients were sending in the second half too: they shared the quota, neither waited for the other to end.
    List<ScriptedServer.Exchange> secondHalf = all.subList(total / 2, total);
    assertThat(secondHalf).anyMatch(e -> e.path.startsWith("/a/"));
    assertThat(secondHalf).anyMatch(e -> e.path.startsWith("/b/"));
    // And the quota was used, not wasted: the whole run took about (total - burst) / rate.
    double seconds = (all.get(total - 1).arrived - all.get(0).arrived) / 1e9;
    assertThat(seconds).isLessThan(1.5 * (total - BURST) / (double) RATE);
  }
}
