package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A 3-node Redis Cluster started here: multi-limit decisions on many keys, no CROSSSLOT error. */
class ClusterTest {

  @Test
  void multiLimitDecisionsWorkAcrossAThreeNodeCluster() {
    List<RedisServer> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        nodes.add(RedisServer.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", "5000"));
      }
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (RedisServer n : nodes) {
        create.add("127.0.0.1:" + n.port());
      }
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      RedisServer.run(create);
      await().pollInterval(Duration.ofMillis(20)).atMost(Duration.ofSeconds(30)).until(() ->
          nodes.stream().allMatch(n -> n.cli("CLUSTER", "INFO").contains("cluster_state:ok")));

      try (RedisLimits redis = RedisLimits.connect(
          "redis-cluster://127.0.0.1:" + nodes.get(0).port() + ",127.0.0.1:" + nodes.get(1).port())) {
        RedisRateLimiter<String> limiter = redis.limiter(Limit.parse("2/s burst 2 and 5/min"))
            .timeout(Duration.ofSeconds(5)).build();
        for (int k = 0; k < 200; k++) {
          String key = "user-" + k;
          assertThat(limiter.decideAsync(key, 2).join()).as(key).isEqualTo(Decision.allowed(0, 24_000_000_000L));
          Decision refused = limiter.decideAsync(key, 1).join();
          assertThat(refused.isAllowed()).as(key).isFalse();
          assertThat(refused.waitTime()).isLessThanOrEqualTo(Duration.ofMillis(500));
        }
        RedisRateLimiter.Stats stats = limiter.stats();
        assertThat(stats.degraded()).as("no CROSSSLOT (or other) error").isZero();
        assertThat(stats.fromRedis()).isEqualTo(400);

        // Every node holds some callers, and both buckets of a caller sit on the same node.
        Map<String, Integer> nodeOfCaller = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
          String keys = nodes.get(i).cli("--scan", "--pattern", "throttle:*");
          assertThat(keys).as("node %d holds keys", i).isNotBlank();
          for (String key : keys.split("\n")) {
            String caller = key.substring(key.indexOf('{') + 1, key.indexOf('}'));
            Integer previous = nodeOfCaller.put(caller + "@" + key.substring(key.indexOf('}')), i);
            assertThat(previous).isNull();
            assertThat(nodeOfCaller.getOrDefault(caller, i)).as(caller).isEqualTo(i);
            nodeOfCaller.put(caller, i);
          }
        }
        assertThat(nodeOfCaller.keySet().stream().filter(c -> !c.contains("@"))).hasSize(200);
      }
    } finally {
      nodes.forEach(RedisServer::close);
    }
  }
}
