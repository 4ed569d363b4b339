package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link AttemptListener#observing}: every attempt of a throttled client, retries included, on real sockets. */
class AttemptListenerTest {

  private static final class Recorder implements AttemptListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void onSend(HttpRequest request) {
      events.add("send");
    }

    @Override
    public void onResponse(HttpRequest request, HttpResponse<?> response) {
      events.add(Integer.toString(response.statusCode()));
    }

    @Override
    public void onError(HttpRequest request, Throwable error) {
      events.add("error");
    }
  }

  @Test
  void seesEveryAttemptAndEveryEndRetriesIncluded() throws Exception {
    Recorder r = new Recorder();
    try (MockApi api = MockApi.builder(2).latency(Duration.ofMillis(5)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(dev.throttle.core.Limit.parse("50/s"))
            .httpClient(AttemptListener.observing(HttpClient.newHttpClient(), r)).build()) {
      List<CompletableFuture<Outcome<Void>>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        calls.add(client.send(HttpRequest.newBuilder(api.uri().resolve("i/" + i)).build(),
            HttpResponse.BodyHandlers.discarding()).outcome());
      }
      int attempts = 0;
      for (CompletableFuture<Outcome<Void>> c : calls) {
        Outcome<Void> o = c.join();
        assertThat(o.isSucceeded()).isTrue();
        attempts += o.attempts();
      }
      assertThat(r.events.stream().filter("send"::equals).count()).isEqualTo(attempts);
      assertThat(r.events.stream().filter("200"::equals).count()).isEqualTo(4);
      assertThat(r.events.stream().filter("429"::equals).count()).isEqualTo(api.rejected()).isPositive();
    }
  }

  @Test
  void cancellingTheExchangeReachesTheDelegateAndEndsInOnError() throws Exception {
    Recorder r = new Recorder();
    try (MockApi api = MockApi.builder(10).latency(Duration.ofSeconds(30)).start()) {
      HttpClient http = AttemptListener.observing(HttpClient.newHttpClient(), r);
      CompletableFuture<HttpResponse<Void>> exchange =
          http.sendAsync(HttpRequest.newBuilder(api.uri().resolve("slow")).build(), HttpResponse.BodyHandlers.discarding());
      assertThat(exchange.cancel(true)).isTrue();
      await().atMost(Duration.ofSeconds(5)).until(() -> r.events.equals(List.of("send", "error")));
    }
  }
}
