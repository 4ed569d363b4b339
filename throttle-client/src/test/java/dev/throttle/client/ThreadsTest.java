package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Nothing keeps running after close. */
class ThreadsTest {

  private static Set<String> threads(Predicate<String> which) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(which)
        .collect(Collectors.toSet());
  }

  private static boolean ours(String name) {
    return name.startsWith("throttle-client-") || name.startsWith("throttle-mock-api-")
        || name.startsWith("throttle-batch-");
  }

  @Test
  void noThreadIsLeftRunningAfterClose() {
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
        .until(() -> threads(ThreadsTest::ours).isEmpty());
    Set<String> httpClientsBefore = threads(n -> n.startsWith("HttpClient-"));

    runACancelledBatch();

    // The client's and the API's threads end within close(), the batch's with its completion.
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
        .untilAsserted(() -> assertThat(threads(ThreadsTest::ours)).isEmpty());
    // The JDK HttpClient's selector thread: Java 17 has no HttpClient.close() (close() calls it on Java 21+), so
    // it ends once the client is unreachable and collected, within its 3 s selector timeout. This checks that
    // nothing of ours keeps the client reachable after close.
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      System.gc();
      Set<String> now = threads(n -> n.startsWith("HttpClient-"));
      now.removeAll(httpClientsBefore);
      assertThat(now).isEmpty();
    });
  }

  /** In a method of its own, so that no local variable of the test keeps the client reachable. */
  private static void runACancelledBatch() {
    try (MockApi api = MockApi.builder(100).latency(Duration.ofMillis(30)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(api.limit()).maxInFlight(8).build()) {
      List<Job> jobs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        jobs.add(Job.of("t" + i, HttpRequest.newBuilder(api.uri().resolve("t/" + i)).build()));
      }
      Batch batch = BatchRunner.start(client, jobs.iterator(), BodyHandlers.discarding(), new BatchListener<>() {});
      await().pollInterval(Duration.ofMillis(5)).until(() -> batch.progress().done() >= 20);
      assertThat(threads(ThreadsTest::ours)).anyMatch(n -> n.startsWith("throttle-client-"))
          .anyMatch(n -> n.startsWith("throttle-mock-api-")).anyMatch(n -> n.startsWith("throttle-batch-"));
      batch.cancel();
      batch.completion().join();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
