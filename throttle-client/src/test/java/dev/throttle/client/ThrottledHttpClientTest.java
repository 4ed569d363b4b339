package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The client against real servers on loopback sockets. */
class ThrottledHttpClientTest {

  private static final RetryPolicy FAST_BACKOFF =
      RetryPolicy.builder().backoff(Duration.ofMillis(1), Duration.ofMillis(5)).build();

  private static ThrottledHttpClient client(String limit, int inFlight, RetryPolicy policy) {
    return ThrottledHttpClient.builder(Limit.parse(limit)).maxInFlight(inFlight).retryPolicy(policy)
        .random(new SplittableRandom(7)).build();
  }

  private static String httpDate(Instant t) {
    return DateTimeFormatter.RFC_1123_DATE_TIME.format(t.atOffset(ZoneOffset.UTC));
  }

  /** A 429 with the given header on the first attempt, then 200; the retry may not come sooner than asked. */
  @ParameterizedTest
  @ValueSource(strings = {"seconds", "http-date", "ratelimit", "x-ratelimit-reset"})
  void honoursEachServerWaitHeaderAndNeverRetriesSooner(String variant) throws Exception {
    Function<ScriptedServer.Exchange, Map<String, String>> header = e -> switch (variant) {
      case "seconds" -> Map.of("Retry-After", "1");
      // an HTTP-date has whole seconds: the server asks for the next second boundary after now + 1 s
      case "http-date" -> {
        Instant now = Instant.now();
        yield Map.of("Retry-After", httpDate(now.plusSeconds(2)), "Date", httpDate(now));
      }
      case "ratelimit" -> Map.of("RateLimit", "\"default\";r=0;t=1", "RateLimit-Policy", "\"default\";q=10;w=1");
      default -> Map.of("X-RateLimit-Reset", "1");
    };
    try (ScriptedServer server = new ScriptedServer(e -> {
          if (e.attempt == 1) {
            e.respond(429, header.apply(e), "slow down");
          } else {
            e.respond(200, Map.of(), "ok");
          }
        });
        ThrottledHttpClient client = client("100/s", 4, RetryPolicy.defaults())) {
      Outcome<String> o = client.send(server.get("/a"), BodyHandlers.ofString()).outcome().join();

      assertThat(o.status()).isEqualTo(Outcome.Status.SUCCEEDED);
      assertThat(o.attempts()).isEqualTo(2);
      assertThat(o.response().orElseThrow().body()).isEqualTo("ok");
      List<ScriptedServer.Exchange> seen = server.exchanges("/a");
      assertThat(seen).hasSize(2);
      // "http-date": Date is truncated to the second, so the wait is between 1 and 2 s; at least 1 s in any case
      long asked = 1_000_000_000L;
      assertThat(seen.get(1).arrived - seen.get(0).answered).isGreaterThanOrEqualTo(asked);
    }
  }

  @Test
  void aServerWaitPausesEveryCallNotOnlyTheOneThatGotIt() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> {
          if (e.path.equals("/first") && e.attempt == 1) {
            e.respond(503, Map.of("Retry-After", "1"), "");
          } else {
            e.respond(200, Map.of(), "ok");
          }
        });
        ThrottledHttpClient client = client("1000/s", 1, RetryPolicy.defaults())) {
      Call<String> first = client.send(server.get("/first"), BodyHandlers.ofString());
      // queued behind /first (one in flight): it must not be sent during the pause /first was told to take
      Call<String> second = client.send(server.get("/second"), BodyHandlers.ofString());
      assertThat(first.outcome().join().isSucceeded()).isTrue();
      assertThat(second.outcome().join().isSucceeded()).isTrue();
      long pauseStart = server.exchanges("/first").get(0).answered;
      assertThat(server.exchanges("/second").get(0).arrived - pauseStart).isGreaterThanOrEqualTo(1_000_000_000L);
    }
  }

  @Test
  void garbageHeadersFallBackToBackoffWithoutCrashingOrSleepingLong() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> {
          if (e.attempt < 3) {
            e.respond(429, Map.of("Retry-After", e.attempt == 1 ? "soon" : "-3", "X-RateLimit-Reset", "never"), "");
          } else {
            e.respond(200, Map.of(), "ok");
          }
        });
        ThrottledHttpClient client = client("100/s", 4, FAST_BACKOFF)) {
      long start = System.nanoTime();
      Outcome<String> o = client.send(server.get("/g"), BodyHandlers.ofString()).outcome().join();
      assertThat(o.isSucceeded()).isTrue();
      assertThat(o.attempts()).isEqualTo(3);
      // backoff is at most 5 ms here: nowhere near a second
      assertThat(System.nanoTime() - start).isLessThan(1_000_000_000L);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"99999999999999999999", "date-years-away"})
  void aWaitBeyondTheMaximumEndsTheCallAtOnceInsteadOfRetryingSooner(String value) throws Exception {
    String retryAfter = value.startsWith("date") ? httpDate(Instant.now().plus(Duration.ofDays(3650))) : value;
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(429, Map.of("Retry-After", retryAfter), ""));
        ThrottledHttpClient client = client("100/s", 4, RetryPolicy.defaults())) {
      Outcome<String> o = client.send(server.get("/x"), BodyHandlers.ofString()).outcome().join();
      assertThat(o.status()).isEqualTo(Outcome.Status.FAILED);
      assertThat(o.statusCode()).isEqualTo(429);
      assertThat(o.attempts()).isEqualTo(1);
      assertThat(o.error()).hasValueSatisfying(err -> assertThat(err)
          .startsWith("HTTP 429: the server asked to wait").contains("more than the maximum 300 s"));
      if (!value.startsWith("date")) {
        // the value the server sent, not the 292 years a Duration saturates at
        assertThat(o.error()).hasValueSatisfying(err -> assertThat(err)
            .startsWith("HTTP 429: the server asked to wait 99999999999999999999 s (Retry-After: "));
      }
    }
  }

  @Test
  void givesUpAfterTheMaximumAttemptsWithTheLastResponse() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(503, Map.of(), "busy"));
        ThrottledHttpClient client = client("1000/s", 4, FAST_BACKOFF.toBuilder().maxAttempts(3).build())) {
      Outcome<String> o = client.send(server.get("/busy"), BodyHandlers.ofString()).outcome().join();
      assertThat(o.status()).isEqualTo(Outcome.Status.FAILED);
      assertThat(o.attempts()).isEqualTo(3);
      assertThat(o.statusCode()).isEqualTo(503);
      assertThat(o.response().orElseThrow().body()).isEqualTo("busy");
      assertThat(o.error()).contains("HTTP 503 (gave up after 3 attempts)");
      assertThat(server.exchanges("/busy")).hasSize(3);
    }
  }

  @Test
  void otherStatusesAreFinalResults() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(404, Map.of(), "no such thing"));
        ThrottledHttpClient client = client("1000/s", 4, RetryPolicy.defaults())) {
      Outcome<String> o = client.send(server.get("/missing"), BodyHandlers.ofString()).outcome().join();
      assertThat(o.status()).isEqualTo(Outcome.Status.FAILED);
      assertThat(o.attempts()).isEqualTo(1);
      assertThat(o.error()).contains("HTTP 404");
    }
  }

  @Test
  void aRefusedConnectionIsRetriedThenReported() throws Exception {
    java.net.URI closed;
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(200, Map.of(), ""))) {
      closed = server.uri("/gone");
    }
    try (ThrottledHttpClient client = client("1000/s", 4, FAST_BACKOFF.toBuilder().maxAttempts(2).build())) {
      Outcome<String> o = client.send(java.net.http.HttpRequest.newBuilder(closed).build(), BodyHandlers.ofString())
          .outcome().join();
      assertThat(o.status()).isEqualTo(Outcome.Status.FAILED);
      assertThat(o.attempts()).isEqualTo(2);
      assertThat(o.statusCode()).isZero();
      assertThat(o.error()).contains("connection refused (gave up after 2 attempts)");
    }
  }

  @Test
  void aPostIsNotRetriedAfterATimeoutThatMayHaveReachedTheServer() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> {
          Thread.sleep(500);
          e.respond(200, Map.of(), "late");
        });
        ThrottledHttpClient client = client("1000/s", 4, FAST_BACKOFF)) {
      Outcome<String> o = client.send(java.net.http.HttpRequest.newBuilder(server.uri("/post"))
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("x")).timeout(Duration.ofMillis(100)).build(),
          BodyHandlers.ofString()).outcome().join();
      assertThat(o.status()).isEqualTo(Outcome.Status.FAILED);
      assertThat(o.error()).contains("timed out after 0.100 s");
      // Sent once. (An attempt whose connect timed out on a loaded machine never reached the server, and may be
      // retried even for a POST: the client counts it, the server never saw it.)
      assertThat(server.exchanges("/post")).hasSize(1);
    }
  }

  @Test
  void keepsToTheRateAndTheNumberInFlight() throws Exception {
    java.util.concurrent.atomic.AtomicInteger now = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
    try (ScriptedServer server = new ScriptedServer(e -> {
          most.accumulateAndGet(now.incrementAndGet(), Math::max);
          Thread.sleep(30);
          now.decrementAndGet();
          e.respond(200, Map.of(), "");
        });
        ThrottledHttpClient client = client("200/s burst 10", 5, RetryPolicy.defaults())) {
      List<CompletableFuture<Outcome<String>>> all = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        all.add(client.send(server.get("/r" + i), BodyHandlers.ofString()).outcome());
      }
      all.forEach(f -> assertThat(f.join().isSucceeded()).isTrue());
      assertThat(most.get()).isLessThanOrEqualTo(5);
      List<ScriptedServer.Exchange> seen = server.exchanges();
      long first = seen.stream().mapToLong(e -> e.arrived).min().orElseThrow();
      long last = seen.stream().mapToLong(e -> e.arrived).max().orElseThrow();
      // not faster than the rate: the 60th request no sooner than (60 - 10) / 200 s after the first
      assertThat(last - first).isGreaterThanOrEqualTo(250_000_000L - 20_000_000L /* arrival jitter */);
    }
  }

  @Test
  void aClosedClientRefusesNewCallsAndCancelsTheRest() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> {
          Thread.sleep(10_000);
          e.respond(200, Map.of(), "");
        })) {
      ThrottledHttpClient client = client("1/s", 1, RetryPolicy.defaults());
      Call<String> inFlight = client.send(server.get("/slow"), BodyHandlers.ofString());
      Call<String> queued = client.send(server.get("/queued"), BodyHandlers.ofString());
      org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(5)).until(() -> server.exchanges().size() == 1);
      client.close();
      assertThat(inFlight.outcome().join().status()).isEqualTo(Outcome.Status.CANCELLED);
      assertThat(inFlight.outcome().join().attempts()).isEqualTo(1);
      assertThat(queued.outcome().join().status()).isEqualTo(Outcome.Status.CANCELLED);
      assertThat(queued.outcome().join().attempts()).isZero();
      assertThat(client.activeCalls()).isZero();
      assertThatThrownBy(() -> client.send(server.get("/late"), BodyHandlers.ofString()))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("the client is closed");
    }
  }

  @Test
  void cancellingOneQueuedCallLeavesTheOthersMoving() throws Exception {
    try (ScriptedServer server = new ScriptedServer(e -> e.respond(200, Map.of(), ""));
        ThrottledHttpClient client = client("20/s burst 1", 1, RetryPolicy.defaults())) {
      List<Call<String>> calls = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        calls.add(client.send(server.get("/c" + i), BodyHandlers.ofString()));
      }
      assertThat(calls.get(3).cancel()).isTrue();
      assertThat(calls.get(3).cancel()).isFalse();
      for (int i = 0; i < 6; i++) {
        assertThat(calls.get(i).outcome().join().status())
            .isEqualTo(i == 3 ? Outcome.Status.CANCELLED : Outcome.Status.SUCCEEDED);
      }
      assertThat(server.exchanges("/c3")).isEmpty();
    }
  }

  /**
   * The request's timeout bounds the whole exchange, the body included: a server that sends its headers at once and
   * then trickles the body a byte a second ends the call at the timeout (before the fix it lasted as long as the
   * body, 39 s for a 3 s timeout). The timeline runs on the manual clock.
   */
  @Test
  void theTimeoutBoundsABodyTrickledAByteASecond() throws Exception {
    ManualClock clock = new ManualClock();
    java.util.concurrent.CountDownLatch firstByte = new java.util.concurrent.CountDownLatch(1);
    try (ScriptedServer server = new ScriptedServer(e -> {
          e.http.sendResponseHeaders(200, 100);
          java.io.OutputStream out = e.http.getResponseBody();
          for (int i = 0; i < 100; i++) {
            out.write('x');
            out.flush();
            firstByte.countDown();
            Thread.sleep(1000); // the slow server itself, not a wait for the test
          }
          out.close();
        });
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("10/s")).clock(clock).scheduler(clock)
            .retryPolicy(RetryPolicy.builder().maxAttempts(1).build()).build()) {
      java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(server.uri("/slow"))
          .timeout(Duration.ofSeconds(3)).build();
      CompletableFuture<Outcome<String>> outcome = client.send(request, BodyHandlers.ofString()).outcome();
      assertThat(firstByte.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      clock.advance(Duration.ofMillis(2999));
      assertThat(outcome).isNotDone();
      clock.advance(Duration.ofMillis(1));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(outcome::isDone);
      Outcome<String> o = outcome.join();
      assertThat(o.status()).isEqualTo(Outcome.Status.FAILED);
      assertThat(o.error()).hasValueSatisfying(err -> assertThat(err).startsWith("timed out after 3 s"));
    }
  }
}
