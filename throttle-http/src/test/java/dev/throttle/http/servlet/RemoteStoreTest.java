package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.http.FakeStore;
import dev.throttle.core.Reservation;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import dev.throttle.http.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A store that answers later, on its own thread, as a remote one (Redis) does: the filter suspends the request
 * while it waits for the answer, and carries it out on a container thread, never on the store's.
 */
class RemoteStoreTest {

  private final ManualClock clock = new ManualClock();
  private final KeyedRateLimiter<String> limiter = KeyedRateLimiter.<String>builder(Limit.parse("1/s burst 1"))
      .clock(clock).scheduler(clock).build();
  private final ExecutorService storeThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "remote-store"));
  /** Answers are held until the test releases them. */
  private volatile CountDownLatch release = new CountDownLatch(0);
  private final List<Verdict> verdicts = Collections.synchronizedList(new ArrayList<>());
  private final List<String> decidingThreads = Collections.synchronizedList(new ArrayList<>());

  private final KeyedRateLimiter<String> remote = new FakeStore(limiter.limit()) {
    @Override
    public CompletableFuture<Decision> decideAsync(String key, long cost) {
      return later(() -> limiter.decide(key, cost));
    }

    @Override
    public CompletableFuture<Reservation> reserveAsync(String key, long cost, Duration maxWait) {
      return later(() -> limiter.reserve(key, cost, maxWait));
    }

    private <T> CompletableFuture<T> later(Supplier<T> answer) {
      CountDownLatch gate = release;
      return CompletableFuture.supplyAsync(() -> {
        try {
          gate.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return answer.get();
      }, storeThread);
    }
  };

  @AfterEach
  void stopStore() throws InterruptedException {
    storeThread.shutdownNow();
    assertThat(storeThread.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private HttpThrottle throttle(Rule.Builder rule) {
    return HttpThrottle.builder().rule(rule.store(remote).build()).clock(clock)
        .onVerdict(v -> {
          verdicts.add(v);
          decidingThreads.add(Thread.currentThread().getName());
        }).build();
  }

  @Test
  void refusalsFromALateStoreAreAnsweredOnAContainerThread() throws Exception {
    HttpThrottle throttle = throttle(Rule.builder("api"));
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    try {
      assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200);
      release = new CountDownLatch(1); // the store is slow from now on: the filter must suspend the request
      try (RawHttp c = new RawHttp(server.port())) {
        c.send("GET", "/");
        await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 1);
        release.countDown();
        RawHttp.Response refused = c.read();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Retry-After")).isEqualTo("1");
      }
      // Decided on the store's thread; the answer was written on a container thread, the store's never blocked.
      assertThat(decidingThreads.get(1)).isEqualTo("remote-store");
      assertThat(server.served).hasValue(1);
    } finally {
      server.close();
    }
  }

  @Test
  void aClientThatLeavesBeforeTheStoreAnswersGetsItsPlaceGivenUp() throws Exception {
    HttpThrottle throttle = throttle(Rule.builder("api").delay(Duration.ofSeconds(10)));
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    try {
      assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(200); // spends the token
      release = new CountDownLatch(1); // the store is slow from now on
      H2c gone = new H2c(server.port());
      gone.get("/");
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 1);
      gone.close();
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 0);
      release.countDown(); // the reservation arrives (queued for 1 s) after the client left, and is given up
      storeThread.submit(() -> { }).get(10, TimeUnit.SECONDS); // the store's thread has handed it over
      assertThat(clock.pendingTasks()).as("no wake-up for the departed request").isZero();
      assertThat(limiter.reserve("api:ip:127.0.0.1", 1, Duration.ofSeconds(10)).delay())
          .as("the next request is first in line").isEqualTo(Duration.ofSeconds(1));
      assertThat(verdicts).extracting(Verdict::outcome).containsExactly(Verdict.Outcome.ALLOWED,
          Verdict.Outcome.CLIENT_GONE);
    } finally {
      server.close();
    }
  }
}
