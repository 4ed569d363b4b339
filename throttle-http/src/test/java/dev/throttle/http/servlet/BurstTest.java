package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.http.FakeStore;
import dev.throttle.core.Limit;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Reservation;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import dev.throttle.http.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The seeds' burst test, on the real clock and real sockets: 30 requests at once against {@code 5/s burst 5} in delay
 * mode with a 2 s maximum wait. The first 5 pass at once, the next ones pass spaced at the rate, and the rest are
 * refused with {@code Retry-After}.
 *
 * <p>Timing bounds: the lower bounds are exact (no response can come before its token exists: the k-th success no
 * earlier than (k - 5) x 200 ms after the first request was sent, whatever the load); the upper bounds leave 1.5 s
 * for a loaded 2-core machine to deliver a response.
 */
class BurstTest {

  private static final long MS = 1_000_000L;
  private static final long SLACK = 1500 * MS;

  /**
   * Records when each request reached the store, to know how spread out the burst really arrived: the limiter reads
   * its clock somewhere between the two records (a loaded machine may pause a thread between them).
   */
  private static final class RecordingStore extends FakeStore {
    final KeyedRateLimiter<String> inner;
    final ConcurrentLinkedQueue<Long> before = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> after = new ConcurrentLinkedQueue<>();

    RecordingStore(KeyedRateLimiter<String> inner) {
      super(inner.limit());
      this.inner = inner;
    }

    @Override
    public CompletableFuture<Decision> decideAsync(String key, long cost) {
      return inner.decideAsync(key, cost);
    }

    @Override
    public CompletableFuture<Reservation> reserveAsync(String key, long cost, Duration maxWait) {
      before.add(System.nanoTime());
      try {
        return inner.reserveAsync(key, cost, maxWait);
      } finally {
        after.add(System.nanoTime());
      }
    }
  }

  @Test
  void burstOfThirtyAgainstFivePerSecondBurstFiveWithTwoSecondsMaxWait() throws Exception {
    RecordingStore store = new RecordingStore(KeyedRateLimiter.<String>of(Limit.parse("5/s burst 5")));
    List<Verdict> verdicts = Collections.synchronizedList(new ArrayList<>());
    HttpThrottle throttle = HttpThrottle.builder()
        .rule(Rule.builder("api").store(store).delay(Duration.ofSeconds(2)).build())
        .onVerdict(verdicts::add)
        .build();
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    ExecutorService readers = Executors.newFixedThreadPool(30);
    List<RawHttp> connections = new ArrayList<>();
    try {
      for (int i = 0; i < 30; i++) {
        connections.add(new RawHttp(server.port())); // connect first, so the burst is only the requests
      }
      long t0 = System.nanoTime();
      for (RawHttp c : connections) {
        c.send("GET", "/api");
      }
      List<Future<RawHttp.Response>> futures = new ArrayList<>();
      for (RawHttp c : connections) {
        futures.add(readers.submit(c::read));
      }
      List<RawHttp.Response> responses = new ArrayList<>();
      for (Future<RawHttp.Response> f : futures) {
        responses.add(f.get(30, TimeUnit.SECONDS));
      }

      assertThat(store.before).hasSize(30);
      long spread = Collections.max(store.after) - Collections.min(store.before); // at least the true spread
      long allowed = count(verdicts, Verdict.Outcome.ALLOWED);
      long delayed = count(verdicts, Verdict.Outcome.DELAYED);
      long refused = count(verdicts, Verdict.Outcome.REFUSED);
      assertThat(allowed + delayed + refused).isEqualTo(30);
      assertThat(allowed).as("the burst passes at once").isEqualTo(5);
      // 10 slots (every 200 ms up to 2 s) are always within the maximum wait; a burst that arrived spread out over
      // the spread may catch a few more slots, never more than one per 200 ms of spread.
      assertThat(delayed).isBetween(10L, 10L + spread / (200 * MS) + 1);

      List<Long> okTimes = new ArrayList<>();
      for (RawHttp.Response r : responses) {
        long after = r.arrivedNanos() - t0;
        if (r.status() == 200) {
          okTimes.add(after);
        } else {
          assertThat(r.status()).isEqualTo(429);
          long retryAfter = Long.parseLong(r.header("Retry-After"));
          assertThat(retryAfter).as("the wait beyond the 2 s maximum, rounded up").isGreaterThanOrEqualTo(3);
          assertThat(after).as("a refusal is not delayed").isLessThan(spread + SLACK);
        }
      }
      Collections.sort(okTimes);
      assertThat(okTimes).hasSize((int) (allowed + delayed));
      for (int k = 1; k <= okTimes.size(); k++) {
        long t = okTimes.get(k - 1);
        long slot = Math.max(0, k - 5) * 200 * MS;
        assertThat(t).as("success %d is not earlier than its token", k).isGreaterThanOrEqualTo(slot - MS);
        assertThat(t).as("success %d comes about when its token does", k).isLessThan(slot + spread + SLACK);
      }
      assertThat(server.served).hasValue((int) (allowed + delayed));
      assertThat(throttle.waiting()).isZero();
    } finally {
      for (RawHttp c : connections) {
        c.close();
      }
      readers.shutdownNow();
      assertThat(readers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      server.close();
    }
  }

  private static long count(List<Verdict> verdicts, Verdict.Outcome outcome) {
    return verdicts.stream().filter(v -> v.outcome() == outcome).count();
  }
}
