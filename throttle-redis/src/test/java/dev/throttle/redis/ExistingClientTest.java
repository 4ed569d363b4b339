package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.Limit;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An application that already has a Lettuce client (or its resources) reuses it: the limiters decide on Redis through
 * it, and closing the {@link RedisLimits} leaves what the application owns running.
 */
class ExistingClientTest {

  private static RedisServer server;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @Test
  void anExistingRedisClientIsUsedAndLeftRunning() {
    RedisClient client = RedisClient.create(server.uri());
    client.setOptions(ClientOptions.builder()
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
    try {
      try (RedisLimits redis = RedisLimits.connect(client, server.uri())) {
        assertThat(redis.isConnected()).isTrue();
        RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("2/min")).prefix("existing:").build();
        assertThat(limiter.decide("k", 2).isAllowed()).isTrue();
        assertThat(limiter.decide("k", 1).isAllowed()).isFalse();
        assertThat(limiter.stats().fromRedis()).isEqualTo(2);
      }
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().exists("existing:{k}:2/min")).as("the client still works after close").isEqualTo(1);
      }
    } finally {
      client.shutdown();
    }
  }

  @Test
  void existingClientResourcesAreUsedAndLeftRunning() {
    ClientResources resources = ClientResources.create();
    try {
      try (RedisLimits redis = RedisLimits.connect(server.uri(), resources)) {
        RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("2/min")).prefix("resources:").build();
        assertThat(limiter.decide("k", 1).isAllowed()).isTrue();
        assertThat(limiter.stats().fromRedis()).isEqualTo(1);
      }
      assertThat(resources.eventExecutorGroup().isShuttingDown()).as("the resources are the application's").isFalse();
    } finally {
      resources.shutdown();
    }
  }

  @Test
  void aClusterUriNeedsAClusterClient() {
    RedisClient client = RedisClient.create();
    try {
      assertThatThrownBy(() -> RedisLimits.connect(client, "redis-cluster://127.0.0.1:7000"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RedisClusterClient");
      assertThatThrownBy(() -> RedisLimits.connect(client, "http://localhost"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Invalid Redis URI 'http://localhost'");
    } finally {
      client.shutdown();
    }
  }
}
