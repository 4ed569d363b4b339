package dev.throttle.spring;

import dev.throttle.redis.RedisRateLimiter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The health of the Redis store, for the health indicator of each Boot line ({@code RedisHealthBoot3},
 * {@code RedisHealthBoot4}): read from the connection's state and each rule's circuit, without a round trip of its
 * own.
 *
 * <ul>
 *   <li>{@code UP}: connected, every rule's circuit closed;
 *   <li>{@code DOWN}: not connected (Redis away, or not yet reached): the failure policy answers every decision;
 *   <li>{@code OUT_OF_SERVICE}: connected, but a rule's circuit is open (Redis failed or was too slow for it
 *       lately): that rule's decisions go to the failure policy until the circuit closes.
 * </ul>
 *
 * <p>Details: {@code store}, {@code connected}, {@code openCircuits} (the rules), {@code degraded} (decisions
 * answered by the failure policy so far, every rule together).
 */
record RedisStoreHealth(String status, Map<String, Object> details) {

  static RedisStoreHealth of(ThrottleAutoConfiguration.Stores stores) {
    boolean connected = stores.redis.isConnected();
    List<String> open = stores.redisStores.entrySet().stream()
        .filter(e -> e.getValue().stats().circuitIsOpen()).map(Map.Entry::getKey).sorted().toList();
    long degraded = stores.redisStores.values().stream().map(RedisRateLimiter::stats)
        .mapToLong(RedisRateLimiter.Stats::degraded).sum();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("store", stores.redis.toString());
    details.put("connected", connected);
    details.put("openCircuits", open);
    details.put("degraded", degraded);
    String status = !connected ? "DOWN" : !open.isEmpty() ? "OUT_OF_SERVICE" : "UP";
    return new RedisStoreHealth(status, details);
  }
}
