package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The new user: a fresh application on Redis with the library's defaults (timeout, fail-closed) must answer
 * its first request from Redis, not from the failure policy. A JVM of its own, so nothing is warm but what the
 * library warms; checked from Redis's side too (the key the decision wrote, which expires once its bucket is full again: 6 s).
 */
class ColdStartTest {

  @Test
  void aFreshApplicationWithTheDefaultsAnswersItsFirstDecisionFromRedis() throws Exception {
    try (RedisServer server = RedisServer.start()) {
      for (int run = 0; run < 3; run++) {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), ColdStart.class.getName(), server.uri())
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).as("run %d", run)
            .contains("script loaded before the first decision: [true]")
            .contains("decision: allowed (remaining 9, ")
            .contains("from redis: 1, degraded: 0");
        RedisClient client = RedisClient.create(server.uri());
        try (StatefulRedisConnection<String, String> raw = client.connect()) {
          assertThat(raw.sync().exists("throttle:{first-request}:10/min")).as("the decision was made in Redis")
              .isEqualTo(1);
          raw.sync().flushall();
          raw.sync().scriptFlush(); // the next run connects to a Redis without the script, as a fresh one
        } finally {
          client.shutdown();
        }
      }
    }
  }
}
