package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.redis.RedisServer;
import dev.throttle.spring.servletapp.ServletApp;
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

  @Test
  @Override
  void eachKeyHasItsOwnBucket() {
    super.eachKeyHasItsOwnBucket();
    assertThat(redis.cli("--scan", "--pattern", "test:keyed:*").lines().sorted().toList())
        .hasSize(2).allSatisfy(k -> assertThat(k).startsWith("test:keyed:"))
        .anySatisfy(k -> assertThat(k).contains("alice")).anySatisfy(k -> assertThat(k).contains("bob"));
  }
}
