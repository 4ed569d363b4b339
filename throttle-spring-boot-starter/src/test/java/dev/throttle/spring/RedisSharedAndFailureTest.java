package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.redis.RedisServer;
import dev.throttle.spring.servletapp.ServletApp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances of the application of redis.yml on one real redis-server enforce one limit per key between them;
 * and when Redis goes away, the configured failure policy answers.
 */
class RedisSharedAndFailureTest {

  static final HttpClient client = HttpClient.newHttpClient();

  static ConfigurableApplicationContext start(RedisServer redis, String... more) {
    return new SpringApplicationBuilder(ServletApp.class)
        .properties("spring.config.name=redis", "server.port=0", "throttle.store=" + redis.uri())
        .properties(more).run();
  }

  static int get(ConfigurableApplicationContext app, String key) throws IOException, InterruptedException {
    return get(app, "/api/keyed", key);
  }

  static int get(ConfigurableApplicationContext app, String path, String key)
      throws IOException, InterruptedException {
    String port = app.getEnvironment().getProperty("local.server.port");
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("X-API-Key", key).timeout(Duration.ofSeconds(20)).build();
    return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void twoInstancesOnOneRedisShareEachKeysLimit() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ConfigurableApplicationContext a = start(redis);
        ConfigurableApplicationContext b = start(redis)) {
      assertThat(get(a, "carol")).isEqualTo(200);
      assertThat(get(b, "carol")).isEqualTo(200);
      assertThat(get(a, "carol")).isEqualTo(429); // 2/min between them, not 2/min each
      assertThat(get(b, "carol")).isEqualTo(429);
      assertThat(get(b, "dave")).isEqualTo(200);
    }
  }

  /**
   * throttle.redis-lease: two instances with leases of 3 on a key of 10/min burst 10 admit exactly the 10 (every token
   * granted by Redis), some decisions without a round trip; Redis's key holds the rest of the bucket.
   */
  @Test
  void leasesAreTakenFromTheSharedBucketAndSpentLocally() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ConfigurableApplicationContext a = start(redis, "throttle.redis-lease=3");
        ConfigurableApplicationContext b = start(redis, "throttle.redis-lease=3")) {
      long callsBefore = redis.scriptCalls();
      int allowed = 0;
      for (int i = 0; i < 16; i++) {
        if (get(i % 4 < 2 ? a : b, "/api/leased", "ivan") == 200) { // two on a, two on b, ...
          allowed++;
        }
      }
      assertThat(allowed).as("the bucket of 10, shared").isEqualTo(10);
      assertThat(redis.scriptCalls() - callsBefore).as("script calls for 16 decisions").isLessThan(16);
    }
  }

  @Test
  void aNegativeLeaseIsRefusedNamingTheProperty() {
    try (RedisServer redis = RedisServer.start()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> start(redis, "throttle.redis-lease=-1"))
          .hasStackTraceContaining("Invalid property 'throttle.redis-lease' = '-1': must be 0 (no lease) or a number"
              + " of tokens");
    }
  }

  @Test
  void whenRedisIsGoneTheFailurePolicyAnswers() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ConfigurableApplicationContext open = start(redis, "throttle.on-redis-failure=fail-open");
        ConfigurableApplicationContext closed = start(redis, "throttle.on-redis-failure=fail-closed")) {
      assertThat(get(open, "erin")).isEqualTo(200);
      assertThat(get(closed, "frank")).isEqualTo(200);
      redis.kill();
      for (int i = 0; i < 4; i++) {
        assertThat(get(open, "erin")).isEqualTo(200); // beyond 2/min: allowed while Redis is away
      }
      assertThat(get(closed, "frank")).isEqualTo(429);
      // Actuator's health: the throttle component DOWN (the connection's loss is seen as the socket closes)
      HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + open.getEnvironment().getProperty("local.server.port") + "/actuator/health")).build();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> client.send(health, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
      assertThat(RedisStoreTest.component(client.send(health, HttpResponse.BodyHandlers.ofString()).body(), "throttle"))
          .contains("\"status\":\"DOWN\"").contains("\"connected\":false");
    }
  }

  /**
   * A Redis that is connected but does not answer (CLIENT PAUSE): after five timeouts in a row the rule's circuit
   * opens, and the health component says OUT_OF_SERVICE naming the rule, the connection still up.
   */
  @Test
  void anOpenCircuitIsOutOfServiceInTheHealth() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ConfigurableApplicationContext app = new SpringApplicationBuilder(ServletApp.class)
            .properties("spring.config.name=redis", "server.port=0", "throttle.store=" + redis.uri(),
                "throttle.on-redis-failure=fail-open")
            .run("--throttle.redis-timeout=50ms")) { // over redis.yml's 1s
      assertThat(get(app, "gina")).isEqualTo(200);
      redis.cli("CLIENT", "PAUSE", "5000");
      for (int i = 0; i < 6; i++) {
        assertThat(get(app, "gina")).isEqualTo(200); // fail-open: each timeout answered by the policy
      }
      HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + app.getEnvironment().getProperty("local.server.port") + "/actuator/health")).build();
      HttpResponse<String> answer = client.send(health, HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).isEqualTo(503);
      assertThat(RedisStoreTest.component(answer.body(), "throttle")).contains("\"status\":\"OUT_OF_SERVICE\"")
          .contains("\"connected\":true").contains("\"openCircuits\":[\"keyed\"]");
    }
  }
}
