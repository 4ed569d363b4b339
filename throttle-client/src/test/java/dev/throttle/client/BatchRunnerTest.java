package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Limit;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Batches against real servers: exactly one result per job, in input order, whatever happens on the way. */
class BatchRunnerTest {

  private static List<Job> jobs(ScriptedServer server, int n, Duration timeout) {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(Job.of("job-" + i, HttpRequest.newBuilder(server.uri("/j/" + i)).timeout(timeout).build()));
    }
    return jobs;
  }

  private static void assertOneResultPerJobInOrder(List<JobResult<String>> results, List<Job> jobs) {
    assertThat(results).hasSize(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      assertThat(results.get(i).index()).isEqualTo(i);
      assertThat(results.get(i).job()).isSameAs(jobs.get(i));
    }
  }

  @Test
  void aFlakyServerStillGivesExactlyOneResultPerJob() throws Exception {
    // 15 % 503 (some with Retry-After: 0), 5 % dropped connections, 3 % answers slower than the timeout
    try (ScriptedServer server = new ScriptedServer(e -> {
          int roll = Math.floorMod((e.path + "#" + e.attempt).hashCode() * 0x9E3779B9, 100);
          if (roll < 10) {
            e.respond(503, Map.of(), "busy");
          } else if (roll < 15) {
            e.respond(503, Map.of("Retry-After", "0"), "busy");
          } else if (roll < 20) {
            e.drop();
          } else if (roll < 23) {
            Thread.sleep(400); // twice the timeout: normally a timeout and a retry; on a loaded machine perhaps not
            e.respond(200, Map.of(), "ok " + e.path);
          } else {
            e.respond(200, Map.of(), "ok " + e.path);
          }
        });
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("2000/s")).maxInFlight(32)
            .retryPolicy(RetryPolicy.builder().maxAttempts(4).backoff(Duration.ofMillis(1), Duration.ofMillis(10))
                .build())
            .random(new SplittableRandom(3)).build()) {
      List<Job> jobs = jobs(server, 1000, Duration.ofMillis(200));
      BatchResult<String> done = BatchRunner.run(client, jobs, BodyHandlers.ofString());
      List<JobResult<String>> results = done.results();

      assertOneResultPerJobInOrder(results, jobs);
      long succeeded = results.stream().filter(r -> r.outcome().isSucceeded()).count();
      long failed = results.stream().filter(r -> r.outcome().status() == Outcome.Status.FAILED).count();
      assertThat(succeeded + failed).isEqualTo(1000);
      // The stats come with the results, and count the same jobs.
      assertThat(done.stats().jobs()).isEqualTo(1000);
      assertThat(done.stats().succeeded()).isEqualTo(succeeded);
      assertThat(done.stats().failed()).isEqualTo(failed);
      assertThat(done.stats().attempts())
          .isEqualTo(results.stream().mapToLong(r -> r.outcome().attempts()).sum());
      assertThat(succeeded).isGreaterThan(950); // a job fails only if 4 attempts in a row fail (~0.1 %)
      for (JobResult<String> r : results) {
        Outcome<String> o = r.outcome();
        if (o.isSucceeded()) {
          assertThat(o.response().orElseThrow().body()).isEqualTo("ok /j/" + r.index());
        } else {
          assertThat(o.error()).isPresent();
          assertThat(o.attempts()).isEqualTo(4);
        }
      }
      // every attempt the client counted reached the server (dropped and timed-out ones included); the server may see
      // more, since the JDK's HttpClient itself resends a GET once when a pooled connection closes without an answer
      long attempts = results.stream().mapToLong(r -> r.outcome().attempts()).sum();
      assertThat(server.exchanges().size()).isGreaterThanOrEqualTo((int) attempts);
      assertThat(client.activeCalls()).isZero();
    }
  }

  @Test
  void resultsComeInInputOrderFromAStreamWithASmallWindow() throws Exception {
    SplittableRandom random = new SplittableRandom(11);
    List<Integer> delays = Collections.synchronizedList(new ArrayList<>());
    try (ScriptedServer server = new ScriptedServer(e -> {
          int ms;
          synchronized (random) {
            ms = random.nextInt(30);
          }
          delays.add(ms);
          Thread.sleep(ms);
          e.respond(200, Map.of(), e.path);
        });
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("1000/s")).maxInFlight(8).build()) {
      Iterator<Job> stream = IntStream.range(0, 200)
          .mapToObj(i -> Job.of("s" + i, HttpRequest.newBuilder(server.uri("/s/" + i)).build())).iterator();
      List<JobResult<String>> delivered = new ArrayList<>();
      List<Progress> progress = new ArrayList<>();
      Batch batch = BatchRunner.start(client, stream, BodyHandlers.ofString(), new BatchListener<String>() {
        @Override
        public void onResult(JobResult<String> result) {
          delivered.add(result);
        }

        @Override
        public void onProgress(Progress p) {
          progress.add(p);
        }
      }, 5);
      Stats stats = batch.completion().join();

      assertThat(delivered).extracting(JobResult::index).containsExactlyElementsOf(
          IntStream.range(0, 200).mapToObj(Long::valueOf).toList());
      assertThat(delivered).allSatisfy(r -> assertThat(r.outcome().response().orElseThrow().body())
          .isEqualTo("/s/" + r.index()));
      assertThat(stats.succeeded()).isEqualTo(200);
      assertThat(progress).hasSize(200);
      assertThat(progress.get(199).done()).isEqualTo(200);
      // The window of 5 bounds what was read ahead of delivery.
      assertThat(progress).allSatisfy(p -> assertThat(p.submitted() - p.done()).isLessThanOrEqualTo(5 + 5));
    }
  }

  @Test
  void cancellingMidBatchGivesEveryJobAResult() throws Exception {
    try (MockApi api = MockApi.builder(50).latency(Duration.ofMillis(20)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(api.limit()).maxInFlight(8).build()) {
      List<Job> jobs = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        jobs.add(Job.of(Integer.toString(i), HttpRequest.newBuilder(api.uri().resolve("c/" + i)).build()));
      }
      List<JobResult<Void>> delivered = Collections.synchronizedList(new ArrayList<>());
      Batch[] batch = new Batch[1];
      batch[0] = BatchRunner.start(client, jobs.iterator(), BodyHandlers.discarding(), new BatchListener<Void>() {
        @Override
        public void onResult(JobResult<Void> result) {
          delivered.add(result);
          if (delivered.size() == 60) {
            batch[0].cancel();
          }
        }
      }, 100);
      Stats stats = batch[0].completion().join();

      assertThat(delivered).extracting(JobResult::index).containsExactlyElementsOf(
          IntStream.range(0, 300).mapToObj(Long::valueOf).toList());
      assertThat(stats.jobs()).isEqualTo(300);
      assertThat(stats.succeeded()).isBetween(60L, 299L);
      assertThat(stats.cancelled()).isEqualTo(300 - stats.succeeded() - stats.failed());
      assertThat(stats.cancelled()).isGreaterThan(0);
      // after the first cancelled result, no later job succeeded that had not been sent already
      assertThat(delivered.stream().filter(r -> r.outcome().status() == Outcome.Status.CANCELLED))
          .allSatisfy(r -> assertThat(r.outcome().response()).isEmpty());
      assertThat(client.activeCalls()).isZero();
      // A call cancelled in flight has its result at once; its permit comes back when the aborted exchange has
      // ended, on the client's executor, a moment after the batch's last result.
      Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
          .until(() -> client.inFlight() == 0);
    }
  }
}
