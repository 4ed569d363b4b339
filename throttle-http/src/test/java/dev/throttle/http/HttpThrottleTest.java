package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.LocalKeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.ManualClock;
import dev.throttle.core.Props;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.LocalKeyedRateLimiter;
import dev.throttle.core.Reservation;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The framework-neutral throttle on a manual clock: every number in every verdict, without a server. */
class HttpThrottleTest {

  private final ManualClock clock = new ManualClock(-5_000_000_000L); // any start works, negative included
  private final List<Verdict> verdicts = Collections.synchronizedList(new ArrayList<>());

  private HttpThrottle throttle(Rule... rules) {
    HttpThrottle.Builder b = HttpThrottle.builder().stores(StoreFactory.inMemory(1000, clock, clock)).clock(clock)
        .onVerdict(verdicts::add);
    for (Rule r : rules) {
      b.rule(r);
    }
    return b.build();
  }

  /**
   * Every key the throttle gives a store starts with the rule's id, so that rules deciding through one store (or
   * through stores whose keys meet, as Redis stores with one prefix do) never share a bucket unless given one id.
   */
  @Test
  void rulesOnOneStoreKeepSeparateBucketsUnlessGivenOneId() {
    KeyedRateLimiter<String> shared = KeyedRateLimiter.<String>builder(Limit.parse("1/min")).clock(clock)
        .scheduler(clock).build();
    HttpThrottle separate = HttpThrottle.builder().clock(clock)
        .rule(Rule.builder("hello").path("/hello").store(shared).build())
        .rule(Rule.builder("other").path("/other").store(shared).build()).build();
    assertThat(now(separate.admit(get("/hello"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    assertThat(now(separate.admit(get("/hello"))).outcome()).isEqualTo(Verdict.Outcome.REFUSED);
    assertThat(now(separate.admit(get("/other"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    assertThat(shared.estimate("hello:ip:192.0.2.7", 1).isAllowed()).isFalse();
    assertThat(shared.estimate("other:ip:192.0.2.7", 1).isAllowed()).isFalse();

    KeyedRateLimiter<String> onPurpose = KeyedRateLimiter.<String>builder(Limit.parse("1/min")).clock(clock)
        .scheduler(clock).build();
    HttpThrottle together = HttpThrottle.builder().clock(clock)
        .rule(Rule.builder("hello").id("greeting").path("/hello").store(onPurpose).build())
        .rule(Rule.builder("other").id("greeting").path("/other").store(onPurpose).build()).build();
    assertThat(now(together.admit(get("/hello"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    assertThat(now(together.admit(get("/other"))).outcome()).as("one id, one store: one bucket")
        .isEqualTo(Verdict.Outcome.REFUSED);
  }

  private static RequestView get(String path, String... headerPairs) {
    return from("192.0.2.7", path, headerPairs);
  }

  private static RequestView from(String peer, String path, String... headerPairs) {
    Map<String, List<String>> headers = new HashMap<>();
    for (int i = 0; i < headerPairs.length; i += 2) {
      headers.computeIfAbsent(headerPairs[i], k -> new ArrayList<>()).add(headerPairs[i + 1]);
    }
    return RequestView.of("GET", path, headers, peer, null);
  }

  private static Verdict now(Admission a) {
    assertThat(a.verdict()).as("decided at once").isDone();
    return a.verdict().join();
  }

  private static StructuredFields.Member rateLimit(Verdict v) {
    List<StructuredFields.Member> items = StructuredFields.parseList(v.header("RateLimit"));
    assertThat(items).hasSize(1);
    return items.get(0);
  }

  @Test
  void headersAgreeWithTheLimiterOnEveryDecision() {
    // A twin limiter on the same clock sees the same requests: its decisions are what every field must say.
    Props.forAll("http headers agree with the limiter", 200, r -> {
      ManualClock c = new ManualClock(r.nextLong());
      Limit limit = Props.limit(r, 0.01, 1e6);
      Rule rule = Rule.builder("p").limit(limit).cost(req -> Long.parseLong(req.header("X-Cost"))).build();
      HttpThrottle t = HttpThrottle.builder().rule(rule).stores(StoreFactory.inMemory(10, c, c)).clock(c).build();
      KeyedRateLimiter<String> twin = KeyedRateLimiter.<String>builder(limit).clock(c).scheduler(c).build();
      for (int i = 0; i < 12; i++) {
        c.advanceNanos(Props.step(r, limit));
        long cost = Props.cost(r, limit);
        Verdict v = now(t.admit(get("/", "X-Cost", Long.toString(cost))));
        Decision d = twin.decide("ip:192.0.2.7", cost);
        assertAgrees(v, d, limit);
      }
    });
  }

  private static void assertAgrees(Verdict v, Decision d, Limit limit) {
    List<StructuredFields.Member> policies = StructuredFields.parseList(v.header("RateLimit-Policy"));
    List<StructuredFields.Member> limits = StructuredFields.parseList(v.header("RateLimit"));
    assertThat(policies).hasSameSizeAs(limit.bandwidths()).hasSameSizeAs(limits);
    for (int j = 0; j < policies.size(); j++) {
      Bandwidth b = limit.bandwidths().get(j);
      long w = policies.get(j).integer("w");
      long q = policies.get(j).integer("q");
      // w is the period rounded up to whole seconds, and q never promises more than the rate over w.
      assertThat(w).isEqualTo(Render.ceilSeconds(b.periodNanos()));
      assertThat(BigInteger.valueOf(q).multiply(BigInteger.valueOf(b.periodNanos())))
          .isLessThanOrEqualTo(BigInteger.valueOf(b.amount()).multiply(BigInteger.valueOf(w * 1_000_000_000L)));
      assertThat(limits.get(j).value()).isEqualTo(policies.get(j).value());
      assertThat(limits.get(j).integer("r")).isEqualTo(Math.min(d.remaining(), Render.SF_MAX));
    }
    long t = limits.get(0).integer("t");
    assertThat(v.header("X-RateLimit-Limit")).isEqualTo(Long.toString(limit.burst()));
    assertThat(v.header("X-RateLimit-Remaining")).isEqualTo(Long.toString(d.remaining()));
    assertThat(Long.parseLong(v.header("X-RateLimit-Reset"))).isEqualTo(Render.ceilSeconds(d.resetNanos()));
    if (d.isAllowed()) {
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
      assertThat(t).isEqualTo(Render.ceilSeconds(d.resetNanos()));
      assertThat(v.header("Retry-After")).isNull();
    } else {
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.REFUSED);
      assertThat(v.status()).isEqualTo(429);
      long retry = Long.parseLong(v.header("Retry-After"));
      // Whole seconds rounded up: waiting that long is always enough, and never 0 for a positive wait.
      assertThat(retry).isPositive();
      assertThat(retry * 1_000_000_000L).isGreaterThanOrEqualTo(d.waitNanos());
      assertThat((retry - 1) * 1_000_000_000L).isLessThan(d.waitNanos());
      assertThat(t).isEqualTo(retry);
      Map<String, Object> problem = JsonReader.object(v.body());
      assertThat(problem.get("type")).isEqualTo(Render.QUOTA_EXCEEDED);
      assertThat(problem.get("status")).hasToString("429");
      assertThat(problem.get("retry-after-seconds")).hasToString(Long.toString(retry));
      assertThat(problem.get("violated-policies")).isEqualTo(
          policies.stream().map(StructuredFields.Member::value).toList());
    }
  }

  @Test
  void delayedRequestsProceedAtTheirTurnAndTheRestAreRefused() {
    HttpThrottle t = throttle(Rule.builder("api").limit("5/s burst 5").delay(Duration.ofSeconds(2)).build());
    List<Admission> all = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      all.add(t.admit(get("/x")));
    }
    for (int i = 0; i < 5; i++) {
      assertThat(now(all.get(i)).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    }
    // 10 wait their turn, one every 200 ms, the last exactly at the 2 s maximum; the rest would wait longer.
    for (int i = 15; i < 30; i++) {
      Verdict v = now(all.get(i));
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.REFUSED);
      assertThat(v.header("Retry-After")).isEqualTo("3"); // 2.2 s, behind the 10 waiting
    }
    assertThat(t.waiting()).isEqualTo(10);
    for (int i = 5; i < 15; i++) {
      clock.advance(Duration.ofMillis(199));
      assertThat(all.get(i).verdict()).as("request %d before its turn", i).isNotDone();
      clock.advance(Duration.ofMillis(1));
      Verdict v = now(all.get(i));
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.DELAYED);
      assertThat(v.waited()).isEqualTo(Duration.ofMillis(200L * (i - 4)));
      assertThat(rateLimit(v).integer("r")).isZero();
    }
    assertThat(t.waiting()).isZero();
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void cancellingAWaitingRequestReturnsItsTokens() {
    HttpThrottle t = throttle(Rule.builder("api").limit("1/s").delay(Duration.ofSeconds(5)).build());
    assertThat(now(t.admit(get("/"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    Admission b = t.admit(get("/"));
    Admission c = t.admit(get("/"));
    clock.advance(Duration.ofMillis(400));
    assertThat(b.cancel(Admission.Cancel.CLIENT_GONE)).isTrue();
    Verdict gone = now(b);
    assertThat(gone.outcome()).isEqualTo(Verdict.Outcome.CLIENT_GONE);
    assertThat(gone.status()).isEqualTo(503); // for an adapter that cannot tell whether anyone still listens
    assertThat(gone.header("Retry-After")).isEqualTo("1"); // its turn would have been 0.6 s away
    assertThat(gone.waited()).isEqualTo(Duration.ofMillis(400));
    assertThat(b.cancel(Admission.Cancel.TIMED_OUT)).isFalse(); // decided once
    // C moves up to B's place: its turn is at 1 s, not 2 s.
    clock.advance(Duration.ofMillis(599));
    assertThat(c.verdict()).isNotDone();
    clock.advance(Duration.ofMillis(1));
    assertThat(now(c).outcome()).isEqualTo(Verdict.Outcome.DELAYED);
    assertThat(c.cancel(Admission.Cancel.CLIENT_GONE)).isFalse(); // too late: its tokens are spent
    assertThat(t.waiting()).isZero();
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void timingOutAWaitingRequestAnswers503WithTheWaitLeft() {
    HttpThrottle t = throttle(Rule.builder("api").limit("1/s").delay(Duration.ofSeconds(5)).build());
    now(t.admit(get("/")));
    Admission b = t.admit(get("/")); // due at 1 s
    Admission c = t.admit(get("/")); // due at 2 s
    Admission d = t.admit(get("/")); // due at 3 s
    clock.advance(Duration.ofMillis(300));
    assertThat(d.cancel(Admission.Cancel.TIMED_OUT)).isTrue();
    Verdict v = now(d);
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.TIMED_OUT);
    assertThat(v.status()).isEqualTo(503);
    assertThat(v.header("Retry-After")).isEqualTo("3"); // 2.7 s left, rounded up
    Map<String, Object> problem = JsonReader.object(v.body());
    assertThat(problem.get("status")).hasToString("503");
    assertThat(problem.get("retry-after-seconds")).hasToString("3");
    assertThat(b.verdict()).isNotDone();
    assertThat(c.verdict()).isNotDone();
  }

  @Test
  void closingAnswersEveryWaitingRequestAndEveryLaterOne() {
    HttpThrottle t = throttle(Rule.builder("api").path("/api").limit("1/s").delay(Duration.ofSeconds(10)).build());
    now(t.admit(get("/api")));
    List<Admission> waiting = List.of(t.admit(get("/api")), t.admit(get("/api")), t.admit(get("/api")));
    clock.advance(Duration.ofMillis(500));
    assertThat(t.waiting()).isEqualTo(3);
    t.close();
    assertThat(t.isClosed()).isTrue();
    assertThat(t.waiting()).isZero();
    assertThat(clock.pendingTasks()).as("no wake-up left behind").isZero();
    for (int i = 0; i < 3; i++) {
      Verdict v = now(waiting.get(i));
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.SHUT_DOWN);
      assertThat(v.status()).isEqualTo(503);
      assertThat(v.header("Retry-After")).isEqualTo(Integer.toString(i + 1)); // 0.5, 1.5, 2.5 s left
    }
    Verdict later = now(t.admit(get("/api")));
    assertThat(later.outcome()).isEqualTo(Verdict.Outcome.SHUT_DOWN);
    assertThat(later.header("Retry-After")).isEqualTo("1");
    assertThat(now(t.admit(get("/health"))).outcome()).isEqualTo(Verdict.Outcome.UNTHROTTLED); // no rule covers it
    t.close(); // idempotent
  }

  @Test
  void requestsWithoutAKeyGetTheRulesStatedBehaviour() {
    KeyResolver apiKey = KeyResolver.header("X-API-Key");
    HttpThrottle shared = throttle(Rule.builder("api").limit("1/s").key(apiKey).build());
    assertThat(now(shared.admit(get("/"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    assertThat(now(shared.admit(get("/", "X-API-Key", ""))).outcome()).isEqualTo(Verdict.Outcome.REFUSED);
    assertThat(now(shared.admit(get("/", "X-API-Key", "k1"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);

    HttpThrottle reject = throttle(Rule.builder("api").limit("1/s").key(apiKey)
        .onMissingKey(Rule.MissingKey.REJECT).build());
    Verdict missing = now(reject.admit(get("/<b>", "X-API-Key", " ")));
    assertThat(missing.outcome()).isEqualTo(Verdict.Outcome.MISSING_KEY);
    assertThat(missing.status()).isEqualTo(400);
    assertThat(JsonReader.object(missing.body()).get("detail"))
        .isEqualTo("The rate limit 'api' applies per header:X-API-Key, and this request has none.");

    HttpThrottle allow = throttle(Rule.builder("api").limit("1/s").key(apiKey).onMissingKey(Rule.MissingKey.ALLOW)
        .build());
    for (int i = 0; i < 3; i++) {
      Verdict v = now(allow.admit(get("/")));
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.UNTHROTTLED);
      assertThat(v.headers()).isEmpty();
    }
  }

  @Test
  void anUnusableKeyIs400AndNeverStored() {
    LocalKeyedRateLimiter<String> limiter = KeyedRateLimiter.<String>builder(Limit.parse("1/s")).clock(clock)
        .scheduler(clock).build();
    HttpThrottle t = throttle(Rule.builder("api").store(limiter).key(KeyResolver.header("X-API-Key")).build());
    String huge = "<\"zq\">".repeat(20_000);
    Verdict v = now(t.admit(get("/", "X-API-Key", huge)));
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.INVALID_KEY);
    assertThat(v.status()).isEqualTo(400);
    assertThat(v.body()).doesNotContain("zq").hasSizeLessThan(400);
    assertThat(limiter.size()).isZero();
  }

  @Test
  void dryRunDecidesAndReportsButNeverRefusesNorWaits() {
    HttpThrottle t = throttle(Rule.builder("api").limit("1/s").delay(Duration.ofSeconds(5)).dryRun(true).build());
    assertThat(now(t.admit(get("/"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED);
    Verdict v = now(t.admit(get("/")));
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.DRY_RUN_REFUSED);
    assertThat(v.proceeds()).isTrue();
    assertThat(rateLimit(v).integer("r")).isZero();
    assertThat(v.header("X-RateLimit-Remaining")).isEqualTo("0");
    clock.advance(Duration.ofSeconds(1));
    assertThat(now(t.admit(get("/"))).outcome()).isEqualTo(Verdict.Outcome.ALLOWED); // the refusal took nothing
  }

  @Test
  void theFirstRuleThatMatchesDecidesAndUnmatchedRequestsPass() {
    HttpThrottle t = throttle(
        Rule.builder("uploads").path("/api/upload").methods("POST").limit("1/min").build(),
        Rule.builder("api").path("/api").limit("2/min").build());
    RequestView upload = RequestView.of("POST", "/api/upload", Map.of(), "192.0.2.7", null);
    assertThat(now(t.admit(upload)).ruleName()).isEqualTo("uploads");
    assertThat(now(t.admit(upload)).outcome()).isEqualTo(Verdict.Outcome.REFUSED);
    assertThat(now(t.admit(get("/api/upload"))).ruleName()).isEqualTo("api"); // a GET is not an upload
    Verdict other = now(t.admit(get("/static/app.js")));
    assertThat(other.outcome()).isEqualTo(Verdict.Outcome.UNTHROTTLED);
    assertThat(other.ruleName()).isNull();
    assertThat(other.headers()).isEmpty();
  }

  @Test
  void storeFailuresAndBugsBecomeAnswersNotExceptions() {
    KeyedRateLimiter<String> broken = new FakeStore(Limit.parse("1/s")) {
      @Override
      public CompletableFuture<Decision> decideAsync(String key, long cost) {
        return CompletableFuture.failedFuture(new IllegalStateException("connection refused"));
      }

      @Override
      public CompletableFuture<Reservation> reserveAsync(String key, long cost, Duration maxWait) {
        throw new IllegalStateException("connection refused");
      }
    };
    HttpThrottle t = throttle(Rule.builder("decide").path("/d").store(broken).build(),
        Rule.builder("reserve").path("/r").store(broken).delay(Duration.ofSeconds(1)).build(),
        Rule.builder("cost").path("/c").limit("1/s").cost(req -> 0).build());
    for (String path : new String[] {"/d", "/r"}) {
      Verdict v = now(t.admit(get(path)));
      assertThat(v.outcome()).isEqualTo(Verdict.Outcome.STORE_FAILED);
      assertThat(v.status()).isEqualTo(503);
      assertThat(v.header("Retry-After")).isEqualTo("1");
    }
    Verdict bug = now(t.admit(get("/c")));
    assertThat(bug.outcome()).isEqualTo(Verdict.Outcome.FAILED);
    assertThat(bug.status()).isEqualTo(500);
    assertThat(t.waiting()).isZero();
  }

  @Test
  void aRemoteStoresLateReservationIsCancelledOnArrival() {
    // A store that answers later, as a remote one does: the client leaves before the answer comes.
    KeyedRateLimiter<String> limiter = KeyedRateLimiter.<String>builder(Limit.parse("1/s")).clock(clock)
        .scheduler(clock).build();
    List<Runnable> answers = new ArrayList<>();
    KeyedRateLimiter<String> remote = new FakeStore(limiter.limit()) {
      @Override
      public CompletableFuture<Decision> decideAsync(String key, long cost) {
        throw new AssertionError("delay mode reserves");
      }

      @Override
      public CompletableFuture<Reservation> reserveAsync(String key, long cost, Duration maxWait) {
        CompletableFuture<Reservation> f = new CompletableFuture<>();
        answers.add(() -> f.complete(limiter.reserve(key, cost, maxWait)));
        return f;
      }
    };
    HttpThrottle t = throttle(Rule.builder("api").store(remote).delay(Duration.ofSeconds(5)).build());
    limiter.reserve("api:ip:192.0.2.7", 1, Duration.ZERO); // the bucket is empty: the next reservation must wait
    Admission a = t.admit(get("/"));
    assertThat(a.verdict()).isNotDone();
    assertThat(t.waiting()).isEqualTo(1);
    assertThat(a.cancel(Admission.Cancel.CLIENT_GONE)).isTrue();
    assertThat(now(a).outcome()).isEqualTo(Verdict.Outcome.CLIENT_GONE);
    answers.forEach(Runnable::run); // the reservation arrives, queued for 1 s, and is given up at once
    assertThat(clock.pendingTasks()).isZero();
    Reservation next = limiter.reserve("api:ip:192.0.2.7", 1, Duration.ofSeconds(5));
    assertThat(next.delay()).isEqualTo(Duration.ofSeconds(1)); // not 2 s: the cancelled one holds no place
    assertThat(t.waiting()).isZero();
  }

  @Test
  void theVerdictHandedOutCannotBeCompletedFromOutside() {
    HttpThrottle t = throttle(Rule.builder("api").limit("1/s").delay(Duration.ofSeconds(5)).build());
    now(t.admit(get("/")));
    Admission a = t.admit(get("/"));
    a.verdict().complete(null);
    a.verdict().cancel(true);
    assertThat(a.verdict()).isNotDone();
    clock.advance(Duration.ofSeconds(1));
    assertThat(now(a).outcome()).isEqualTo(Verdict.Outcome.DELAYED);
  }

  @Test
  void everyVerdictReachesTheListenerOnce() {
    HttpThrottle t = throttle(Rule.builder("api").limit("1/s").delay(Duration.ofSeconds(1)).build());
    now(t.admit(get("/")));
    Admission waiting = t.admit(get("/"));
    now(t.admit(get("/"))); // refused: would wait 2 s
    waiting.cancel(Admission.Cancel.CLIENT_GONE);
    waiting.cancel(Admission.Cancel.CLIENT_GONE);
    assertThat(verdicts).extracting(Verdict::outcome).containsExactly(Verdict.Outcome.ALLOWED,
        Verdict.Outcome.REFUSED, Verdict.Outcome.CLIENT_GONE);
  }
}
