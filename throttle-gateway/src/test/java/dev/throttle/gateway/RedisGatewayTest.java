package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.http.Rule;
import dev.throttle.redis.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Gateways on a real {@code redis-server} (started by the test on a free port): two instances enforcing one limit
 * under concurrent load through both, and Redis killed under load for each failure policy.
 */
class RedisGatewayTest {

  private final List<AutoCloseable> closeLater = new ArrayList<>();
  private final Upstream upstream = new Upstream();

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = closeLater.size() - 1; i >= 0; i--) {
      closeLater.get(i).close();
    }
    upstream.close();
  }

  private <T extends AutoCloseable> T later(T resource) {
    closeLater.add(resource);
    return resource;
  }

  private Gateway gateway(RedisServer redis, String limit, Duration timeout, String onFailure) {
    return gateway(redis, limit, timeout, onFailure, 0);
  }

  private Gateway gateway(RedisServer redis, String limit, Duration timeout, String onFailure, long lease) {
    return later(Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).noAdmin().upstream(upstream.uri())
        .eventLoops(1).grace(Duration.ofSeconds(1)).redisStore(redis.uri()).redisTimeout(timeout)
        .redisFailure(onFailure).redisLease(lease)
        .route(new GatewayConfig.Route("api", List.of(Rule.builder("api").path("/api").limit(limit).build())))
        .build()));
  }

  /** One answer: when it was asked and answered (nanoTime), its status, and which gateway. */
  private record Answer(long sent, long received, int status, int gateway) {}

  private static Answer ask(int port, int gateway) {
    long sent = System.nanoTime();
    try {
      HttpResponse<Void> r = Http.CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/api/x")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
      return new Answer(sent, System.nanoTime(), r.statusCode(), gateway);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code threads} callers per gateway asking until {@code stop}; every answer recorded. */
  private static List<Future<?>> load(ExecutorService pool, List<Gateway> gateways, int threads, AtomicBoolean stop,
      ConcurrentLinkedQueue<Answer> answers) {
    List<Future<?>> callers = new ArrayList<>();
    for (int g = 0; g < gateways.size(); g++) {
      int port = gateways.get(g).port();
      int index = g;
      for (int t = 0; t < threads; t++) {
        callers.add(pool.submit(() -> {
          while (!stop.get()) {
            answers.add(ask(port, index));
          }
        }));
      }
    }
    return callers;
  }

  /**
   * Two rules with the same limit and key kind on one Redis (and one prefix) keep separate buckets: spending one
   * leaves the other whole. Each Redis key names its rule.
   */
  @Test
  void twoRulesWithTheSameLimitAndKeyKeepSeparateBucketsOnOneRedis() throws Exception {
    RedisServer redis = later(RedisServer.start());
    Gateway gateway = later(Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).noAdmin()
        .upstream(upstream.uri()).eventLoops(1).grace(Duration.ofSeconds(1)).redisStore(redis.uri())
        .route(new GatewayConfig.Route("hello", List.of(Rule.builder("hello").path("/hello").limit("2/min")
            .key("header:X-API-Key").build())))
        .route(new GatewayConfig.Route("other", List.of(Rule.builder("other").path("/other").limit("2/min")
            .key("header:X-API-Key").build())))
        .build()));
    String base = "http://127.0.0.1:" + gateway.port();
    assertThat(statusWithKey(base + "/hello")).isEqualTo(200);
    assertThat(statusWithKey(base + "/hello")).isEqualTo(200);
    assertThat(statusWithKey(base + "/hello")).as("the /hello rule is spent").isEqualTo(429);
    assertThat(statusWithKey(base + "/other")).as("the /other rule has its own bucket").isEqualTo(200);
    assertThat(statusWithKey(base + "/other")).isEqualTo(200);
    assertThat(statusWithKey(base + "/other")).isEqualTo(429);
    assertThat(redis.cli("--scan", "--pattern", "throttle:gw:{*:header:*").lines().sorted().toList())
        .containsExactly("throttle:gw:{hello:header:x-api-key:z}:2/min", "throttle:gw:{other:header:x-api-key:z}:2/min");
  }

  private static int statusWithKey(String uri) throws Exception {
    return Http.CLIENT.send(HttpRequest.newBuilder(URI.create(uri)).header("X-API-Key", "z")
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /**
   * Without leases (0) the grants stay within the limit; with leases of 4 tokens, within the limit plus 4 per
   * gateway, and some requests are decided from a lease, without a round trip.
   */
  @ParameterizedTest(name = "lease {0}")
  @ValueSource(longs = {0, 4})
  void twoGatewaysSharingOneRedisEnforceOneLimit(long lease) throws Exception {
    RedisServer redis = later(RedisServer.start());
    // A timeout long enough that no decision degrades on a loaded machine: this test is about the shared limit.
    Gateway a = gateway(redis, "20/s burst 10", Duration.ofSeconds(1), "fail-closed", lease);
    Gateway b = gateway(redis, "20/s burst 10", Duration.ofSeconds(1), "fail-closed", lease);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<?>> callers = load(pool, List.of(a, b), 4, stop, answers);
    Thread.sleep(2500); // the load runs for this long (the measurement window is taken from the answers)
    stop.set(true);
    for (Future<?> f : callers) {
      f.get();
    }
    pool.shutdown();

    List<Answer> all = List.copyOf(answers);
    long first = all.stream().mapToLong(Answer::sent).min().orElseThrow();
    long last = all.stream().mapToLong(Answer::received).max().orElseThrow();
    double seconds = (last - first) / 1e9;
    long allowed = all.stream().filter(x -> x.status() == 200).count();
    assertThat(all).allSatisfy(x -> assertThat(x.status()).isIn(200, 429));
    // Every grant happened inside [first, last]: at most burst + rate * t of the one limit, whichever gateway, and
    // with leases the tokens the two gateways may hold from before the first request (none here: they start empty).
    assertThat(allowed).isLessThanOrEqualTo(10 + (long) Math.floor(20 * seconds));
    // And the limit is really shared, not doubled nor unused: the burst and most of the rate were granted.
    assertThat(allowed).isGreaterThanOrEqualTo(10 + (long) (20 * seconds * 0.5));
    assertThat(all.stream().filter(x -> x.status() == 200 && x.gateway() == 0).count()).isPositive();
    assertThat(all.stream().filter(x -> x.status() == 200 && x.gateway() == 1).count()).isPositive();
    assertThat(upstream.count()).isEqualTo((int) allowed);
    assertThat(PromText.value(a.metricsText(), "throttle_gateway_redis_degraded_total", "rule", "api")).isZero();
    double leased = PromText.value(a.metricsText(), "throttle_gateway_redis_decisions_total", "rule", "api",
        "result", "leased") + PromText.value(b.metricsText(), "throttle_gateway_redis_decisions_total", "rule", "api",
        "result", "leased");
    if (lease == 0) {
      assertThat(leased).isZero();
    } else {
      assertThat(leased).as("decided from a lease").isPositive();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"fail-open", "fail-closed", "local-share:2"})
  void redisKilledUnderLoadIsAnsweredByTheFailurePolicy(String policy) throws Exception {
    RedisServer redis = later(RedisServer.start());
    Gateway g = gateway(redis, "10/s burst 10", Duration.ofMillis(50), policy);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<?>> callers = load(pool, List.of(g), 2, stop, answers);
    Thread.sleep(700); // under load with Redis up
    long killedAt = System.nanoTime();
    redis.kill();
    Thread.sleep(1500); // under load with Redis down
    long restartedAt = System.nanoTime();
    redis.restart();
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> answers.stream()
        .anyMatch(x -> x.sent() > restartedAt && x.status() == 200) || policy.equals("fail-closed")
        && PromText.value(g.metricsText(), "throttle_gateway_redis_connected") == 1);
    stop.set(true);
    for (Future<?> f : callers) {
      f.get();
    }
    pool.shutdown();

    List<Answer> all = List.copyOf(answers);
    // The gateway kept answering: every request got 200 or 429, none waited much longer than the Redis timeout.
    assertThat(all).allSatisfy(x -> {
      assertThat(x.status()).isIn(200, 429);
      assertThat(Duration.ofNanos(x.received() - x.sent())).isLessThan(Duration.ofSeconds(1));
    });
    // While Redis was surely down (from 200 ms after the kill to the restart), the policy answered.
    List<Answer> down = all.stream().filter(x -> x.sent() > killedAt + 200_000_000L && x.received() < restartedAt)
        .toList();
    assertThat(down).hasSizeGreaterThan(20);
    long allowedDown = down.stream().filter(x -> x.status() == 200).count();
    double downSeconds = (restartedAt - killedAt - 200_000_000L) / 1e9;
    switch (policy) {
      case "fail-open" -> assertThat(allowedDown).isEqualTo(down.size());
      case "fail-closed" -> assertThat(allowedDown).isZero();
      default -> {
        // Half the limit in process (10/2s burst 5): some pass, never more than that share allows.
        assertThat(allowedDown).isPositive();
        assertThat(allowedDown).isLessThanOrEqualTo(5 + (long) Math.ceil(5 * downSeconds));
      }
    }
    String metrics = g.metricsText();
    assertThat(degraded(metrics)).isPositive();
    assertThat(PromText.has(metrics, "throttle_gateway_redis_decisions_total", "rule", "api", "result", "redis"))
        .isTrue();
  }

  private static long degraded(String metrics) {
    return (long) PromText.value(metrics, "throttle_gateway_redis_degraded_total", "rule", "api");
  }

  @Test
  void healthSaysWhenRedisIsAway() throws Exception {
    RedisServer redis = later(RedisServer.start());
    Gateway g = later(Gateway.start(GatewayConfig.builder().listen("127.0.0.1", 0).admin("127.0.0.1", 0)
        .upstream(upstream.uri()).eventLoops(1).redisStore(redis.uri())
        .route(new GatewayConfig.Route("api", List.of(Rule.builder("api").limit("10/s").build()))).build()));
    assertThat(Http.get(g.adminPort(), "/health").body()).contains("\"status\":\"up\"", "\"redis\":\"connected\"");
    redis.kill();
    await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Http.get(g.adminPort(), "/health").body()).contains("\"status\":\"degraded\"",
            "\"redis\":\"disconnected\""));
    assertThat(Http.get(g.adminPort(), "/health").statusCode()).isEqualTo(200);
  }

  /**
   * fail-closed with a healthy but slow Redis: a decision that times out is refused (a timeout counts as a Redis
   * failure from the first miss), and /metrics tells it from an outage: Redis answered it late. A killed Redis
   * times out too, but never answers late.
   */
  @Test
  void aTimeoutThatRedisAnswersLateIsCountedApartFromAnOutage() throws Exception {
    RedisServer redis = later(RedisServer.start());
    Gateway g = gateway(redis, "100/s", Duration.ofMillis(50), "fail-closed");
    assertThat(ask(g.port(), 0).status()).isEqualTo(200);
    redis.cli("CLIENT", "PAUSE", "600", "ALL"); // Redis holds every client's commands for 600 ms, then answers them
    assertThat(ask(g.port(), 0).status()).as("fail-closed: a timeout is a failure").isEqualTo(429);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      String m = g.metricsText();
      assertThat(PromText.value(m, "throttle_gateway_redis_decisions_total", "rule", "api", "result", "timeout"))
          .isEqualTo(1);
      assertThat(PromText.value(m, "throttle_gateway_redis_late_answers_total", "rule", "api")).isEqualTo(1);
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> ask(g.port(), 0).status() == 200);

    redis.kill();
    for (int i = 0; i < 3; i++) {
      assertThat(ask(g.port(), 0).status()).isEqualTo(429);
    }
    String text = g.metricsText();
    assertThat(PromText.value(text, "throttle_gateway_redis_late_answers_total", "rule", "api")).isEqualTo(1);
    assertThat(PromText.value(text, "throttle_gateway_redis_degraded_total", "rule", "api")).isGreaterThanOrEqualTo(4);
    assertThat(PromText.value(text, "throttle_gateway_redis_circuit_open", "rule", "api")).isIn(0.0, 1.0);
    Promtool.check(text);
  }
}
