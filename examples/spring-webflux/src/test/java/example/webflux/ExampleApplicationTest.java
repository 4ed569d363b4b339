package example.webflux;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;

/** The example as ./run starts it (its application.yml), on a random port. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ExampleApplicationTest {

  static final HttpClient client = HttpClient.newHttpClient();

  @Value("${local.server.port}")
  int port;

  HttpRequest request(String method, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20))
        .method(method, HttpRequest.BodyPublishers.noBody()).build();
  }

  @Test
  void theSixthLoginInAMinuteIsRefusedWithRetryAfter() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(client.send(request("POST", "/api/login"), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
    }
    HttpResponse<String> refused = client.send(request("POST", "/api/login"), HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(refused.headers().firstValue("RateLimit-Policy")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("\"login\";q=5;w=60"));
  }

  /** 10/s burst 5 in delay mode: 8 requests at once all pass, the last ones after waiting their turn. */
  @Test
  void aBurstBeyondTheLimitIsDelayedNotRefused() {
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      answers.add(client.sendAsync(request("GET", "/api/hello"), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> a : answers) {
      HttpResponse<String> r = a.join();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("world");
      assertThat(r.headers().firstValue("RateLimit")).isPresent();
    }
  }
}
