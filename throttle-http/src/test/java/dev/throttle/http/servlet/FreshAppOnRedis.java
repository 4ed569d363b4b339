package dev.throttle.http.servlet;

import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The new user, in a JVM of its own for {@link FreshAppOnRedisTest}: a Servlet application whose filter
 * decides on Redis with every default of the library (timeout, fail-closed), made as the README suggests, answering
 * its very first request. Prints the status and the Redis limiter's counts. Argument: the Redis URI.
 */
public final class FreshAppOnRedis {

  private FreshAppOnRedis() {}

  public static void main(String[] args) throws Exception {
    try (RedisLimits redis = RedisLimits.connect(args[0])) {
      List<RedisRateLimiter<String>> limiters = new ArrayList<>();
      HttpThrottle throttle = HttpThrottle.builder()
          .stores(rule -> {
            RedisRateLimiter<String> l = redis.limiter(rule.limit()).build(); // every default
            limiters.add(l);
            return l;
          })
          .rule(Rule.builder("hello").path("/hello").limit("10/min").key("header:X-API-Key").build())
          .build();
      try (TestServer server = TestServer.start(new ThrottleFilter(throttle))) {
        HttpResponse<Void> first = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.port() + "/hello")).header("X-API-Key", "z").build(),
            HttpResponse.BodyHandlers.discarding());
        RedisRateLimiter.Stats stats = limiters.get(0).stats();
        System.out.println("first request: " + first.statusCode() + ", remaining "
            + first.headers().firstValue("X-RateLimit-Remaining").orElse("?"));
        System.out.println("from redis: " + stats.fromRedis() + ", degraded: " + stats.degraded());
      }
    }
  }
}
