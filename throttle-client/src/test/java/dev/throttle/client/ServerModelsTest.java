package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Limit;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client against in-JVM models of the limiters it meets (a strict leaky bucket at millisecond granularity as
 * nginx {@code limit_req}, a fixed window in each header dialect as express-rate-limit, a bucket without burst that
 * answers with a rounded-up {@code Retry-After} as Throttle's gateway), on real sockets, judged by what each model
 * saw. The real servers are measured in the bench's {@code client} section; these are the fast checks.
 */
class ServerModelsTest {

  private static ThrottledHttpClient client(ThrottledHttpClient.Builder b) {
    return b.maxInFlight(16).random(new SplittableRandom(11)).build();
  }

  private static List<Outcome<String>> sendAll(ThrottledHttpClient client, ScriptedServer server, int n) {
    List<CompletableFuture<Outcome<String>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(client.send(server.get("/r" + i), BodyHandlers.ofString()).outcome());
    }
    return all.stream().map(CompletableFuture::join).toList();
  }

  private static long refused(ScriptedServer server) {
    return server.exchanges().stream().filter(e -> e.status == 429).count();
  }

  /** nginx's rule without burst: a request is refused if it arrives less than 1/rate after the last one taken. */
  static final class StrictLeakyBucket implements ScriptedServer.Script {
    private final long intervalMs;
    private long last = Long.MIN_VALUE;

    StrictLeakyBucket(long intervalMs) {
      this.intervalMs = intervalMs;
    }

    @Override
    public void answer(ScriptedServer.Exchange e) throws java.io.IOException {
      boolean taken;
      synchronized (this) {
        long ms = e.arrived / 1_000_000;
        taken = last == Long.MIN_VALUE || ms - last >= intervalMs;
        if (taken) {
          last = ms;
        }
      }
      e.respond(taken ? 200 : 429, Map.of(), ""); // like nginx: no fields, no Retry-After
    }
  }

  /** express-rate-limit's fixed window: the quota per window from the first request, fields in one dialect. */
  static final class FixedWindow implements ScriptedServer.Script {
    private final int quota;
    private final long windowMs;
    private final String dialect;
    private long start = Long.MIN_VALUE;
    private int count;

    FixedWindow(int quota, long windowMs, String dialect) {
      this.quota = quota;
      this.windowMs = windowMs;
      this.dialect = dialect;
    }

    @Override
    public void answer(ScriptedServer.Exchange e) throws java.io.IOException {
      int n;
      long resetMs;
      synchronized (this) {
        long ms = e.arrived / 1_000_000;
        if (start == Long.MIN_VALUE || ms - start >= windowMs) {
          start = ms;
          count = 0;
        }
        n = ++count;
        resetMs = start + windowMs - ms;
      }
      long remaining = Math.max(0, quota - n);
      long t = (resetMs + 999) / 1000; // whole seconds, rounded up
      long w = windowMs / 1000;
      Map<String, String> h = new HashMap<>();
      switch (dialect) {
        case "draft-10" -> {
          h.put("RateLimit-Policy", "\"fixed\";q=" + quota + ";w=" + w);
          h.put("RateLimit", "\"fixed\";r=" + remaining + ";t=" + t);
        }
        case "draft-7" -> {
          h.put("RateLimit-Policy", quota + ";w=" + w);
          h.put("RateLimit", "limit=" + quota + ", remaining=" + remaining + ", reset=" + t);
        }
        default -> { // draft-6
          h.put("RateLimit-Policy", quota + ";w=" + w);
          h.put("RateLimit-Limit", String.valueOf(quota));
          h.put("RateLimit-Remaining", String.valueOf(remaining));
          h.put("RateLimit-Reset", String.valueOf(t));
        }
      }
      if (n > quota) {
        h.put("Retry-After", String.valueOf(t));
      }
      e.respond(n > quota ? 429 : 200, h, "");
    }
  }

  @Test
  void aStrictServerCostsThePairOneRefusalAndTheRestGoesSpacedOneByOne() throws Exception {
    try (ScriptedServer server = new ScriptedServer(new StrictLeakyBucket(50));
        ThrottledHttpClient client = client(ThrottledHttpClient.builder(Limit.parse("20/s")))) {
      List<Outcome<String>> outcomes = sendAll(client, server, 20);

      assertThat(outcomes).allMatch(Outcome::isSucceeded);
      // The probe goes alone, the pair together: one of the two is refused and the client paces from then on.
      // A client that sent its burst (20/s allows 20 at once) would have had 19 refused. One more is allowed for a
      // request that reaches a loaded machine's server late (that is what the spacing margin then learns from).
      assertThat(refused(server)).isBetween(1L, 2L);
      assertThat(client.learned().spacing()).isTrue();
    }
  }

  @Test
  void aServerThatTakesThePairTakesBurstsAndThePacingEnds() throws Exception {
    // a token bucket of 10 at 10/s that publishes nothing (as the demo's bursty API on a pass)
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(200, Map.of(), ""));
        ThrottledHttpClient client = client(ThrottledHttpClient.builder(Limit.parse("10/s burst 10")))) {
      List<Outcome<String>> outcomes = sendAll(client, server, 10);

      assertThat(outcomes).allMatch(Outcome::isSucceeded);
      assertThat(refused(server)).isZero();
      assertThat(client.learned().spacing()).isFalse();
      // Paced, the ten would span 9 intervals (900 ms); as a burst they go within one round trip of the pair's.
      List<ScriptedServer.Exchange> seen = server.exchanges();
      long first = seen.stream().mapToLong(e -> e.arrived).min().orElseThrow();
      long last = seen.stream().mapToLong(e -> e.arrived).max().orElseThrow();
      assertThat(last - first).isLessThan(450_000_000L);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"draft-10", "draft-7", "draft-6"})
  void aFixedWindowIsNeverOverrunInAnyDialect(String dialect) throws Exception {
    try (ScriptedServer server = new ScriptedServer(new FixedWindow(5, 1000, dialect));
        ThrottledHttpClient client = client(ThrottledHttpClient.builder(Limit.parse("5/s")))) {
      List<Outcome<String>> outcomes = sendAll(client, server, 15);

      assertThat(outcomes).allMatch(Outcome::isSucceeded);
      assertThat(refused(server)).isZero(); // the server published its quota: no request it would refuse is sent
      assertThat(client.learned().fixedWindow()).isTrue();
      assertThat(server.exchanges()).hasSize(15);
    }
  }

  @Test
  void rateAutoKeepsThePublishedPolicyAsIfConfigured() throws Exception {
    try (ScriptedServer server = new ScriptedServer(new FixedWindow(5, 1000, "draft-10"));
        ThrottledHttpClient client = client(ThrottledHttpClient.builder())) {
      List<Outcome<String>> outcomes = sendAll(client, server, 15);

      assertThat(outcomes).allMatch(Outcome::isSucceeded);
      assertThat(refused(server)).isZero();
      Learned learned = client.learned();
      assertThat(learned.rate()).isEqualTo(5.0);
      assertThat(learned.rateSource()).isEqualTo("RateLimit-Policy q=5;w=1");
      // not a slow start: the first window's quota went out in the first window
      long first = server.exchanges().stream().mapToLong(e -> e.arrived).min().orElseThrow();
      assertThat(server.exchanges().stream().filter(e -> e.arrived - first < 900_000_000L)).hasSize(5);
    }
  }

  @Test
  void aRefusalWithARoundedUpRetryAfterHoldsOnlyTheRefusedRequest() throws Exception {
    // Throttle's gateway with burst 1 at 10/s: every answer says r=0 (t=1, rounded up); the 4th request is refused
    // as if it had come a little early, with Retry-After: 1 (the whole second HTTP requires).
    try (ScriptedServer server = new ScriptedServer(e -> {
          Map<String, String> h = new HashMap<>(Map.of("RateLimit-Policy", "\"b\";q=10;w=1", "RateLimit",
              "\"b\";r=0;t=1"));
          if (e.path.equals("/r3") && e.attempt == 1) {
            h.put("Retry-After", "1");
            e.respond(429, h, "");
          } else {
            e.respond(200, h, "");
          }
        });
        ThrottledHttpClient client = client(ThrottledHttpClient.builder(Limit.parse("10/s")))) {
      List<Outcome<String>> outcomes = sendAll(client, server, 12);

      assertThat(outcomes).allMatch(Outcome::isSucceeded);
      List<ScriptedServer.Exchange> r3 = server.exchanges("/r3");
      assertThat(r3).hasSize(2);
      long refusedAt = r3.get(0).answered;
      long retriedAt = r3.get(1).arrived;
      assertThat(retriedAt - refusedAt).isGreaterThanOrEqualTo(1_000_000_000L); // as the server asked
      // the others went on at the paced rate meanwhile, instead of the whole client waiting out the second
      long during = IntStream.range(4, 12).mapToObj(i -> server.exchanges("/r" + i)).flatMap(List::stream)
          .filter(e -> e.arrived > refusedAt && e.arrived < retriedAt).count();
      assertThat(during).isGreaterThanOrEqualTo(5);
    }
  }

  @Test
  void aSlowBodyIsNotTakenForALateArrival() throws Exception {
    // A server without burst at 10/s (r=0 on every answer: the client paces one by one) that sends every answer's
    // fields at once and, on every other request, the body 80 ms later. The "late previous" rule reads a send whose
    // answer came slowly as one that reached the server late, and holds the next send back by as much: timed to the
    // end of the body, the 16 sends would span 15 intervals plus 7 x 80 ms (about 2.06 s); timed to the fields, as
    // the server's arrival is, 15 intervals (1.5 s) and the wake-ups.
    try (ScriptedServer server = new ScriptedServer(e -> {
          Map<String, String> h = Map.of("RateLimit-Policy", "\"b\";q=10;w=1", "RateLimit", "\"b\";r=0;t=1");
          int n = Integer.parseInt(e.path.substring(2));
          e.respondBodyLater(200, h, "body", n % 2 == 0 ? 80 : 0);
        });
        ThrottledHttpClient client = client(ThrottledHttpClient.builder(Limit.parse("10/s")))) {
      List<Outcome<String>> outcomes = sendAll(client, server, 16);

      assertThat(outcomes).allMatch(Outcome::isSucceeded);
      assertThat(client.learned().spacing()).isTrue();
      List<Long> arrivals = server.exchanges().stream().map(e -> e.arrived).sorted().toList();
      assertThat(arrivals).hasSize(16);
      long spanMs = (arrivals.get(15) - arrivals.get(0)) / 1_000_000;
      assertThat(spanMs).isBetween(1_450L, 1_800L);
    }
  }
}
