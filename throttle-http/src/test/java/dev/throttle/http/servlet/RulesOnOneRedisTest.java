package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The new user: the README's hint {@code stores(rule -> redis.limiter(rule.limit()).build())} gives every
 * rule a Redis store on the same prefix, and two rules with the same limit and key kind must still keep separate
 * buckets (in memory they always did). Through the Servlet filter, on real sockets and a real redis-server.
 */
class RulesOnOneRedisTest {

  @Test
  void twoRulesWithTheSameLimitAndKeyKeepSeparateBucketsOnOneRedis() throws Exception {
    try (RedisServer redisServer = RedisServer.start();
        RedisLimits redis = RedisLimits.connect(redisServer.uri())) {
      HttpThrottle throttle = HttpThrottle.builder()
          .stores(rule -> redis.limiter(rule.limit()).build()) // the same prefix and limit for both rules
          .rule(Rule.builder("hello").path("/hello").limit("2/min").key("header:X-API-Key").build())
          .rule(Rule.builder("other").path("/other").limit("2/min").key("header:X-API-Key").build())
          .build();
      try (TestServer server = TestServer.start(new ThrottleFilter(throttle))) {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + server.port();
        assertThat(status(http, base + "/hello")).isEqualTo(200);
        assertThat(status(http, base + "/hello")).isEqualTo(200);
        assertThat(status(http, base + "/hello")).as("the /hello rule is spent").isEqualTo(429);
        assertThat(status(http, base + "/other")).as("the /other rule has its own bucket").isEqualTo(200);
        assertThat(status(http, base + "/other")).isEqualTo(200);
        assertThat(status(http, base + "/other")).isEqualTo(429);
      }
      RedisClient client = RedisClient.create(redisServer.uri());
      try (StatefulRedisConnection<String, String> raw = client.connect()) {
        List<String> keys = raw.sync().keys("throttle:*");
        assertThat(keys).as("one bucket per rule, each key naming its rule")
            .containsExactlyInAnyOrder("throttle:{hello:header:x-api-key:z}:2/min",
                "throttle:{other:header:x-api-key:z}:2/min");
      } finally {
        client.shutdown();
      }
    }
  }

  private static int status(HttpClient http, String uri) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(uri)).header("X-API-Key", "z").build();
    return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
