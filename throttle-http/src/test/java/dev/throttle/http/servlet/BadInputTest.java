package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.LocalKeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.JsonReader;
import dev.throttle.http.KeyResolver;
import dev.throttle.http.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.junit.jupiter.api.Test;

/** What clients can send that they should not, and configurations that must not start. */
class BadInputTest {

  private final ManualClock clock = new ManualClock();

  private LocalKeyedRateLimiter<String> limiter(String limit, int maxKeys) {
    return KeyedRateLimiter.<String>builder(Limit.parse(limit)).clock(clock).scheduler(clock).maxKeys(maxKeys).build();
  }

  /** A throttle keyed by the X-API-Key header, deciding through {@code limiter}. */
  private static HttpThrottle byApiKey(KeyedRateLimiter<String> limiter, Rule.MissingKey missingKey) {
    return HttpThrottle.builder().rule(Rule.builder("api").store(limiter)
        .key(KeyResolver.header("X-API-Key")).onMissingKey(missingKey).build()).build();
  }

  private static Map<String, Object> problem(RawHttp.Response r) {
    assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
    return JsonReader.object(r.body());
  }

  @Test
  void missingOrEmptyKeyHeaderIsRefusedWhenTheRuleSaysSo() throws Exception {
    HttpThrottle throttle = byApiKey(limiter("10/s", 100), Rule.MissingKey.REJECT);
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    try {
      for (String[] headers : new String[][] {{}, {"X-API-Key:"}, {"X-API-Key:    "}}) {
        RawHttp.Response r = RawHttp.get(server.port(), "/", headers);
        assertThat(r.status()).isEqualTo(400);
        assertThat(problem(r)).containsEntry("title", "Bad Request")
            .containsEntry("detail", "The rate limit 'api' applies per header:X-API-Key, and this request has none.");
      }
      assertThat(RawHttp.get(server.port(), "/", "X-API-Key: k1").status()).isEqualTo(200);
      assertThat(server.served).hasValue(1);
    } finally {
      server.close();
    }
  }

  @Test
  void requestsWithoutAKeyShareOneBucketByDefault() throws Exception {
    HttpThrottle throttle = byApiKey(limiter("2/min", 100), Rule.MissingKey.SHARED);
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    try {
      assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200);
      assertThat(RawHttp.get(server.port(), "/", "X-API-Key: ").status()).isEqualTo(200);
      assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(429);
      assertThat(RawHttp.get(server.port(), "/", "X-API-Key: k1").status()).isEqualTo(200);
    } finally {
      server.close();
    }
  }

  @Test
  void aHundredKilobyteKeyIsRefusedNotStoredAndNotEchoed() throws Exception {
    LocalKeyedRateLimiter<String> limiter = limiter("10/s", 100);
    HttpThrottle throttle = byApiKey(limiter, Rule.MissingKey.SHARED);
    String huge = "<x\"y>" + "z".repeat(100 * 1024);
    // A container lets a 100 KB header through only when told to; Jetty's default (8 KiB) answers 431 itself.
    TestServer big = TestServer.start(new FilterHolder(new ThrottleFilter(throttle)), 256 * 1024);
    try {
      RawHttp.Response r = RawHttp.get(big.port(), "/", "X-API-Key: " + huge);
      assertThat(r.status()).isEqualTo(400);
      assertThat(problem(r)).containsEntry("detail",
          "the X-API-Key header is 102405 characters long; at most 256 are accepted as a rate-limit key");
      assertThat(r.body()).doesNotContain("zzz", "<x");
      assertThat(limiter.size()).isZero();
      assertThat(big.served).hasValue(0);
      assertThat(RawHttp.get(big.port(), "/", "X-API-Key: k1").status()).isEqualTo(200); // the server is fine
    } finally {
      big.close();
    }
    TestServer normal = TestServer.start(new ThrottleFilter(HttpThrottle.builder().rule(Rule.builder("api")
        .limit("10/s").key(KeyResolver.header("X-API-Key")).build()).build()));
    try {
      assertThat(RawHttp.get(normal.port(), "/", "X-API-Key: " + huge).status()).isEqualTo(431);
      assertThat(RawHttp.get(normal.port(), "/", "X-API-Key: k1").status()).isEqualTo(200);
    } finally {
      normal.close();
    }
  }

  @Test
  void nothingTheClientSendsIsEchoedInAProblem() throws Exception {
    HttpThrottle throttle = HttpThrottle.builder().rule(Rule.builder("api").store(limiter("1/min", 100))
        .key(KeyResolver.header("X-API-Key").and(KeyResolver.path())).build()).build();
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    try {
      String path = "/%3Cscript%3Ealert(1)%3C/script%3E%22%7D";
      String key = "X-API-Key: \"},\"injected\":true,\"x\":\"<img src=x>";
      assertThat(RawHttp.get(server.port(), path, key).status()).isEqualTo(200);
      RawHttp.Response r = RawHttp.get(server.port(), path, key);
      assertThat(r.status()).isEqualTo(429);
      Map<String, Object> problem = problem(r);
      assertThat(problem).doesNotContainKey("injected");
      assertThat(r.body()).doesNotContain("script", "img", "injected", "alert");
    } finally {
      server.close();
    }
  }

  @Test
  void aFloodOfDistinctKeysKeepsMemoryBounded() throws Exception {
    LocalKeyedRateLimiter<String> limiter = limiter("1/min", 500);
    HttpThrottle throttle = byApiKey(limiter, Rule.MissingKey.SHARED);
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    ExecutorService clients = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int connection = c;
        results.add(clients.submit(() -> {
          int ok = 0;
          try (RawHttp http = new RawHttp(server.port())) { // one keep-alive connection each
            for (int i = 0; i < 1000; i++) {
              http.send("GET", "/", "X-API-Key: flood-" + connection + "-" + i);
              RawHttp.Response r = http.read();
              ok += r.status() == 200 ? 1 : 0;
              assertThat(limiter.size()).isLessThanOrEqualTo(500 + 4);
            }
          }
          return ok;
        }));
      }
      int ok = 0;
      for (Future<Integer> f : results) {
        ok += f.get(60, TimeUnit.SECONDS);
      }
      assertThat(ok).as("each new key starts with a full bucket").isEqualTo(4000);
      // The limiter's maximum holds up to the keys being inserted at the same moment (one per connection here).
      assertThat(limiter.size()).isLessThanOrEqualTo(500 + 4);
      assertThat(limiter.evictedBeforeFull()).as("room was made by dropping the fullest buckets").isPositive();
    } finally {
      clients.shutdownNow();
      assertThat(clients.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      server.close();
    }
  }

  @Test
  void anInvalidRuleStopsTheApplicationFromStartingAndNamesTheRule() {
    assertThatThrownBy(() -> TestServer.startWithInitParameters(Map.of("rules",
        "api: path=/api; limit=100/s\nuploads: path=/upload; limit=10/min; cost=20")))
        .hasStackTraceContaining("Throttle filter 'throttle': line 2: Invalid rule 'uploads': the cost 20 exceeds the "
            + "burst of the limit '10/min' (at most 10 tokens)");
    assertThatThrownBy(() -> TestServer.startWithInitParameters(Map.of("rules", "api: limit=100/s; mode=delay")))
        .hasStackTraceContaining("Invalid rule 'api': mode=delay needs max-wait");
    assertThatThrownBy(() -> TestServer.startWithInitParameters(Map.of("rules", "api: limit=100/s",
        "trusted-proxies", "10.0.0.1/8")))
        .hasStackTraceContaining("'10.0.0.1/8' has bits set beyond its /8 prefix; did you mean 10.0.0.0/8?");
    assertThatThrownBy(() -> TestServer.startWithInitParameters(Map.of("rule", "api: limit=100/s")))
        .hasStackTraceContaining("unknown init parameter 'rule'");
    assertThatThrownBy(() -> TestServer.startWithInitParameters(Map.of("rules", "api: limit=100/s",
        "rate-limit-headers", "draft-8")))
        .hasStackTraceContaining("rate-limit-headers must be one of draft-10, draft-7, draft-6, legacy, none, got "
            + "'draft-8'");
    assertThatThrownBy(() -> TestServer.startWithInitParameters(Map.of("rules", "api: limit=100/s",
        "rate-limit-headers", "legacy", "legacy-headers", "false")))
        .hasStackTraceContaining("rate-limit-headers=legacy sends only the X-RateLimit-* fields, which "
            + "legacy-headers=false turns off");
  }
}
