package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.redis.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A fresh application on Redis with the library's defaults answers its first request from Redis (the issue: a 5 ms
 * timeout and fail-closed on a cold connection refused it with 429). A JVM of its own each time, so nothing is warm but
 * what the library warms; Redis's script cache is flushed between runs, as for a Redis the application meets first.
 */
class FreshAppOnRedisTest {

  @Test
  void aFreshServletAppOnRedisWithTheDefaultsAnswersItsFirstRequestFromRedis() throws Exception {
    try (RedisServer redis = RedisServer.start()) {
      for (int run = 0; run < 2; run++) {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), FreshAppOnRedis.class.getName(), redis.uri())
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).as("run %d", run).contains("first request: 200, remaining 9")
            .contains("from redis: 1, degraded: 0");
        assertThat(redis.cli("KEYS", "*").strip()).as("decided in Redis (the key expires 6 s after)")
            .isEqualTo("throttle:{hello:header:x-api-key:z}:10/min");
        redis.cli("FLUSHALL");
        redis.cli("SCRIPT", "FLUSH");
      }
    }
  }
}
