package dev.throttle.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.client.AttemptListener;
import dev.throttle.client.MockApi;
import dev.throttle.client.Outcome;
import dev.throttle.client.ThrottledHttpClient;
import dev.throttle.core.Limit;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A client faster than the API (on real sockets): its attempts, its 429s and the server's waits are counted. */
class ClientMetricsTest {

  @Test
  void countsAttemptsBy429AndSuccessAndRecordsTheServersWaits() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (MockApi api = MockApi.builder(5).latency(Duration.ofMillis(5)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("100/s"))
            .httpClient(AttemptListener.observing(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
                ClientMetrics.of(registry, "test")))
            .build()) {
      List<CompletableFuture<Outcome<Void>>> calls = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        calls.add(client.send(HttpRequest.newBuilder(api.uri().resolve("i/" + i)).build(),
            HttpResponse.BodyHandlers.discarding()).outcome());
      }
      calls.forEach(c -> assertThat(c.join().isSucceeded()).isTrue());

      double ok = registry.get("throttle.client.attempts").tag("client", "test").tag("result", "2xx").counter()
          .count();
      double refused = registry.get("throttle.client.attempts").tag("result", "429").counter().count();
      assertThat(ok).isEqualTo(10);
      assertThat(refused).isPositive().isEqualTo(api.rejected());
      // every 429 of the bursty API carries Retry-After
      assertThat(registry.get("throttle.client.server.wait").timer().count()).isEqualTo((long) refused);
    }
  }
}
