package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.HttpThrottle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;


/**
 * An application that stops while a request waits its turn (a minute away) answers it {@code 503} with
 * {@code Retry-After} at once, rather than holding the shutdown for a minute or dropping the connection.
 */
abstract class ShutdownContract {

  abstract Class<?> application();

  abstract String configName();

  @Test
  void aRequestWaitingItsTurnIsAnswered503WhenTheApplicationStops() {
    ConfigurableApplicationContext context = new SpringApplicationBuilder(application())
        .properties("spring.config.name=" + configName(), "server.port=0").run();
    HttpThrottle throttle = context.getBean(HttpThrottle.class);
    String port = context.getEnvironment().getProperty("local.server.port");
    HttpClient client = HttpClient.newHttpClient();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/wait"))
        .timeout(Duration.ofSeconds(30)).build();
    try {
      assertThat(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).join().statusCode()).isEqualTo(200);
      CompletableFuture<HttpResponse<String>> waiting = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> throttle.waiting() == 1);
      long start = System.nanoTime();
      context.close();
      HttpResponse<String> answer = waiting.join();
      assertThat(answer.statusCode()).isEqualTo(503);
      assertThat(answer.headers().firstValue("Retry-After")).isPresent();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    } finally {
      context.close();
    }
  }
}
