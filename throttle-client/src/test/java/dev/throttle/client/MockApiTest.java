package dev.throttle.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Limit;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The mock API and the throttled client against it, at several rates, on real sockets. */
class MockApiTest {

  private static List<Job> jobs(MockApi api, int n) {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(Job.of(Integer.toString(i), HttpRequest.newBuilder(api.uri().resolve("m/" + i)).build()));
    }
    return jobs;
  }

  @Test
  void answers429WithRetryAfterAndRateLimitBeyondItsBurst() throws Exception {
    // 3 a minute: no token comes back during the test, however slow the machine
    try (MockApi api = MockApi.builder(Limit.parse("3/min")).latency(Duration.ZERO).start()) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<HttpResponse<String>> responses = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        responses.add(http.send(HttpRequest.newBuilder(api.uri().resolve("x")).build(), BodyHandlers.ofString()));
      }
      assertThat(responses).extracting(HttpResponse::statusCode).containsExactly(200, 200, 200, 429);
      HttpResponse<String> refused = responses.get(3);
      assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v))
          .isBetween(15L, 20L));
      assertThat(refused.headers().firstValue("RateLimit")).hasValueSatisfying(v -> assertThat(v)
          .startsWith("\"default\";r=0;t="));
      assertThat(refused.headers().firstValue("RateLimit-Policy")).contains("\"default\";q=3;w=60");
      assertThat(api.received()).isEqualTo(4);
      assertThat(api.served()).isEqualTo(3);
      assertThat(api.rejected()).isEqualTo(1);
      assertThat(http.send(HttpRequest.newBuilder(api.uri().resolve("health")).build(), BodyHandlers.ofString())
          .statusCode()).isEqualTo(200);
      assertThat(api.received()).isEqualTo(4); // health is outside the counts
    }
  }

  /** At the API's own rate: every job succeeds, none is lost, and the batch is not faster than the rate. */
  @ParameterizedTest
  @ValueSource(ints = {20, 100, 400})
  void theClientAtTheApisRateCompletesEveryJob(int rate) throws Exception {
    int n = rate * 3 / 2 + 10;
    try (MockApi api = MockApi.builder(rate).latency(Duration.ofMillis(50)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(api.limit()).maxInFlight(Math.max(16, rate / 2))
            .version(HttpClient.Version.HTTP_1_1).build()) {
      List<JobResult<Void>> results = BatchRunner.run(client, jobs(api, n), BodyHandlers.discarding()).results();
      assertThat(results).hasSize(n);
      assertThat(results).allSatisfy(r -> assertThat(r.outcome().isSucceeded()).isTrue());
      assertThat(api.served()).isEqualTo(n);
      // the API's bucket let none through beyond its limit; a 429, if one came (loaded machine), was retried
      assertThat(api.received()).isEqualTo(n + api.rejected());
    }
  }

  @Test
  void aServerAllowingLessThanTheClientsRateStillGetsEveryJobDone() throws Exception {
    try (MockApi api = MockApi.builder(10).latency(Duration.ofMillis(10)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("40/s")).maxInFlight(16)
            .version(HttpClient.Version.HTTP_1_1).build()) {
      List<JobResult<Void>> results = BatchRunner.run(client, jobs(api, 40), BodyHandlers.discarding()).results();
      assertThat(results).hasSize(40);
      assertThat(results).allSatisfy(r -> assertThat(r.outcome().isSucceeded()).isTrue());
      assertThat(api.rejected()).isGreaterThan(0); // it did have to retry
      assertThat(results.stream().mapToInt(r -> r.outcome().attempts()).max().orElseThrow())
          .isLessThanOrEqualTo(RetryPolicy.defaults().maxAttempts());
    }
  }

  @Test
  void adaptiveModeFindsAnUnknownLimitWithFewer429s() throws Exception {
    long fixed429;
    long adaptive429;
    try (MockApi api = MockApi.builder(10).latency(Duration.ofMillis(10)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("40/s")).maxInFlight(16)
            .version(HttpClient.Version.HTTP_1_1).build()) {
      BatchRunner.run(client, jobs(api, 60), BodyHandlers.discarding());
      fixed429 = api.rejected();
    }
    try (MockApi api = MockApi.builder(10).latency(Duration.ofMillis(10)).start();
        ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("40/s")).maxInFlight(16)
            .version(HttpClient.Version.HTTP_1_1).adaptive(true).build()) {
      List<JobResult<Void>> results = BatchRunner.run(client, jobs(api, 60), BodyHandlers.discarding()).results();
      assertThat(results).allSatisfy(r -> assertThat(r.outcome().isSucceeded()).isTrue());
      assertThat(client.currentRate()).isLessThan(40);
      adaptive429 = api.rejected();
    }
    assertThat(adaptive429).isLessThan(fixed429);
  }
}
