package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Nothing keeps running after close. */
class ThreadsTest {

  private static Set<String> ours() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("throttle-client-") || n.startsWith("throttle-mock-api-")
            || n.startsWith("throttle-batch-"))
        .collect(Collectors.toSet());
  }

  @Test
  void noThreadIsLeftRunningAfterClose() throws Exception {
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> ours().isEmpty());
    try (MockApi api = MockApi.builder(100).latency(Duration.ofMillis(30)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(api.limit()).maxInFlight(8).build()) {
      List<Job> jobs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        jobs.add(Job.of("t" + i, HttpRequest.newBuilder(api.uri().resolve("t/" + i)).build()));
      }
      Batch batch = BatchRunner.start(client, jobs.iterator(), BodyHandlers.discarding(), new BatchListener<>() {});
      await().pollInterval(Duration.ofMillis(5)).until(() -> batch.progress().done() >= 20);
      assertThat(ours()).anyMatch(n -> n.startsWith("throttle-client-"))
          .anyMatch(n -> n.startsWith("throttle-mock-api-")).anyMatch(n -> n.startsWith("throttle-batch-"));
      batch.cancel();
      batch.completion().join();
    }
    // The client's and the API's threads end within close(); the batch's with its completion. Not checked: the JDK
    // HttpClient's own selector thread, which Java 17 gives no way to stop (HttpClient.close() came in Java 21, and
    // close() calls it there); on 17 it ends when the HttpClient is garbage-collected.
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).untilAsserted(
        () -> assertThat(ours()).isEmpty());
  }
}
