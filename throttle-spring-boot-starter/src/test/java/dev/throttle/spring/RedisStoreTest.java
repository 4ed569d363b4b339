package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.redis.RedisServer;
import dev.throttle.spring.servletapp.ServletApp;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The Servlet application of redis.yml on a real redis-server (started by the test on a free port, so its URI is
 * the one property set here): the whole contract holds with the buckets in Redis, per key, under the configured
 * prefix and the rule's name.
 */
@SpringBootTest(classes = ServletApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "spring.config.name=redis")
class RedisStoreTest extends ThrottledAppContract {

  static final RedisServer redis = RedisServer.start();

  @DynamicPropertySource
  static void store(DynamicPropertyRegistry registry) {
    registry.add("throttle.store", redis::uri);
  }

  @AfterAll
  static void stop() {
    redis.close();
  }

  /** The same counters, and the Redis store's: both decisions answered by Redis, none degraded, the circuit closed. */
  @Test
  @Override
  void theVerdictsAreCountedAtActuatorPrometheus() {
    super.theVerdictsAreCountedAtActuatorPrometheus();
    PrometheusText metrics = PrometheusText.parse(get("/actuator/prometheus").body());
    assertThat(metrics.value("throttle_redis_decisions_total", "result", "redis", "rule", "metered")).isEqualTo(2.0);
    assertThat(metrics.value("throttle_redis_decisions_total", "result", "timeout", "rule", "metered")).isZero();
    assertThat(metrics.value("throttle_redis_degraded_total", "rule", "metered")).isZero();
    assertThat(metrics.value("throttle_redis_circuit_open", "rule", "metered")).isZero();
    assertThat(metrics.value("throttle_redis_connected")).isEqualTo(1.0);
  }

  /** /actuator/health has the Redis store as its throttle component, UP while Redis answers, with details. */
  @Test
  void theHealthEndpointShowsTheRedisStore() {
    HttpResponse<String> health = get("/actuator/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(component(health.body(), "throttle")).contains("\"status\":\"UP\"")
        .contains("\"store\":\"RedisLimits[Redis 127.0.0.1:" + redis.port() + ", connected]\"")
        .contains("\"connected\":true").contains("\"openCircuits\":[]").contains("\"degraded\":0");
  }

  /** The JSON object of {@code name} in a health answer (its fields in whichever order the Boot line writes). */
  static String component(String json, String name) {
    int start = json.indexOf("\"" + name + "\":{");
    assertThat(start).as("component %s in %s", name, json).isNotNegative();
    int depth = 0;
    for (int i = json.indexOf('{', start); i < json.length(); i++) {
      depth += json.charAt(i) == '{' ? 1 : json.charAt(i) == '}' ? -1 : 0;
      if (depth == 0) {
        return json.substring(start, i + 1);
      }
    }
    throw new AssertionError("unbalanced JSON: " + json);
  }

  @Test
  @Override
  void eachKeyHasItsOwnBucket() {
    super.eachKeyHasItsOwnBucket();
    assertThat(redis.cli("--scan", "--pattern", "test:keyed:*").lines().sorted().toList())
        .hasSize(2).allSatisfy(k -> assertThat(k).startsWith("test:keyed:"))
        .anySatisfy(k -> assertThat(k).contains("alice")).anySatisfy(k -> assertThat(k).contains("bob"));
  }
}
