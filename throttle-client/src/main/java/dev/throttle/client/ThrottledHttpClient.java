package dev.throttle.client;

import dev.throttle.core.Clock;
import dev.throttle.core.Limit;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Scheduler;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * A {@link HttpClient} kept within a rate limit and a number in flight, that retries what the server asks to retry.
 *
 * <pre>{@code
 * try (ThrottledHttpClient client = ThrottledHttpClient.builder(Limit.parse("4/s")).maxInFlight(16).build()) {
 *   Outcome<String> o = client.send(request, BodyHandlers.ofString()).outcome().join();
 * }
 * }</pre>
 *
 * <h2>What a send does</h2>
 *
 * <ol>
 *   <li>Waits for an in-flight permit, then for a rate slot (the core's {@link dev.throttle.core.Throttle}; the permit first, so that
 *       the moments requests start obey the rate). Slots are handed to waiting calls in order, retries first.
 *   <li>When the server has shown that it takes no burst (a strict leaky bucket such as nginx {@code limit_req}
 *       without {@code burst}, a remaining quota of 0), in adaptive mode, and while learning a rate: waits for the
 *       pacer too, which spaces sends one by one at the rate plus a small margin learnt from {@code 429}s.
 *   <li>Sends, and reads the quota fields of <em>every</em> response ({@code RateLimit}/{@code RateLimit-Policy}
 *       in drafts 6 to 10, {@code X-RateLimit-*}) into one view shared by all calls: the first answer's remaining
 *       quota caps the client's burst, and against a fixed window no more goes out before the reset than the
 *       server said is left. A 2xx ends the call.
 *   <li>A status the {@link RetryPolicy} retries ({@code 429}, {@code 503}): the call waits what the server asked
 *       ({@code Retry-After}, {@code RateLimit}, {@code X-RateLimit-Reset}), measured from the response, never
 *       sooner (RFC 9110). When that wait says the quota is spent until later than the next paced send (a
 *       {@code 503}, or a {@code 429} whose wait, less its rounding up to whole seconds, exceeds the client's
 *       interval), <em>no</em> call of this client is sent meanwhile: the server spoke for all of them. A {@code 429}
 *       at a rate the client already keeps, with only a rounded-up {@code Retry-After} ("this one came a little
 *       early"), holds only the refused call; the others carry on at the paced rate. Without a valid header,
 *       backoff with full jitter for that call alone. Connection errors and timeouts per the policy. Then the call
 *       queues again, ahead of calls not yet sent, until its attempts run out.
 *   <li>A malformed header ({@code Retry-After: soon}, a negative number) is logged as a warning and ignored; a
 *       server wait beyond {@link RetryPolicy#maxServerWait()} ends the call (FAILED, reporting the wait the
 *       server sent) with a warning rather than retrying sooner than asked. A request's timeout bounds the whole
 *       exchange, body included.
 * </ol>
 *
 * <p>The rules, and why: {@code docs/client.md}.
 *
 * <p>Every call ends with exactly one {@link Outcome}, also when the client is {@linkplain #close() closed}
 * (CANCELLED). Thread-safe. The client's threads are daemon threads named {@code throttle-client-N}; they end at
 * {@link #close()}, which also closes the {@link HttpClient} when the client built it and it can be closed (Java 21+;
 * on Java 17 its selector thread ends when it is garbage-collected).
 */
public interface ThrottledHttpClient extends AutoCloseable {

  /** A builder for a client that sends at most {@code limit} (the text grammar: {@code 4/s}, {@code 100/s burst 20}). */
  static Builder builder(Limit limit) {
    return new Builder(Objects.requireNonNull(limit, "limit"));
  }

  /**
   * A builder for a client whose sends take their slots from {@code limiter}, which other clients and threads may
   * share: together they keep its limit (its {@link RateLimiter#limit()} is this client's {@link #limit()}). The
   * limiter is used as it is: the {@linkplain Builder#jitterMargin jitter margin} and the restart of the bucket after
   * the first response (see {@link #builder(Limit)}) apply to a client's own bucket only, so keep the shared limit a
   * little below the server's (the first requests of a cold client open connections and may reach the server
   * bunched with the next ones).
   */
  static Builder builder(RateLimiter limiter) {
    return new Builder(Objects.requireNonNull(limiter, "limiter").limit(), limiter, null);
  }

  /**
   * A builder for a client whose sends take their slots from {@code key} of {@code store}: every client on that key
   * of that store shares one quota, across JVMs when the store is shared (throttle-redis's
   * {@code RedisRateLimiter}). Waiting for a slot never blocks a thread; when the store cannot answer and its failure
   * policy refuses, the client asks again after the wait the refusal names (10 ms to 1 s), so its calls wait out the
   * outage. As with {@link #builder(RateLimiter)}, the store's limit is used as it is.
   *
   * <pre>{@code
   * RedisRateLimiter<String> quotas = redis.limiter(Limit.parse("100/s")).build();
   * ThrottledHttpClient client = ThrottledHttpClient.builder(quotas, "partner-api").build(); // in every JVM
   * }</pre>
   */
  static <K> Builder builder(KeyedRateLimiter<K> store, K key) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(key, "key");
    return new Builder(store.limit(), null, scheduler -> new StoreLimiter<>(store, key, scheduler));
  }

  /**
   * A builder for a client that learns its rate ({@code --rate auto}): from the server's quota fields when it
   * publishes them ({@code RateLimit-Policy} {@code q}/{@code w}, the first response's remaining quota for its
   * burst), else from its {@code 429}s (adaptive, with a slow start). {@link #learned()} says what it found.
   */
  static Builder builder() {
    return new Builder(null);
  }

  /**
   * Sends {@code request} through the throttle, with retries.
   *
   * @throws IllegalStateException if the client is closed
   */
  <T> Call<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler);

  /**
   * The limit sends are kept within (with the jitter margin below it, see {@link Builder#jitterMargin}); for a client
   * that learns its rate ({@link #builder()}), none until learned: {@link #learned()} has the rate.
   */
  Optional<Limit> limit();

  /** What the client has learned of the server so far: its rate, burst, kind of limit, spacing margin. */
  Learned learned();

  /** The most requests in flight at once. */
  int maxInFlight();

  /** Requests in flight now (holding a permit: waiting for a rate slot, or sent and not yet answered). */
  int inFlight();

  /** The rate sends go at now, in requests per second: the adaptive rate, or the configured one. */
  double currentRate();

  /** Calls not yet ended. */
  int activeCalls();

  /**
   * Ends every call not yet ended (CANCELLED: waits stop, exchanges in flight are aborted) and stops the client's
   * threads. Idempotent; {@link #send} fails afterwards.
   */
  @Override
  void close();

  /** Configures a {@link ThrottledHttpClient}. Every setter validates its value at once. */
  final class Builder {
    final Limit limit;
    /** The shared limiter slots come from, or null for the client's own bucket on {@link #limit}. */
    RateLimiter shared;
    private final java.util.function.Function<Scheduler, RateLimiter> sharedFromStore;
    int maxInFlight = 16;
    RetryPolicy retryPolicy = RetryPolicy.defaults();
    boolean adaptive;
    HttpClient httpClient;
    HttpClient.Version version;
    Duration connectTimeout = Duration.ofSeconds(10);
    Duration jitterMargin = Duration.ofMillis(20);
    Clock clock = Clock.system();
    Scheduler scheduler = Scheduler.shared();
    java.time.Clock wallClock = java.time.Clock.systemUTC();
    RandomGenerator random;

    private Builder(Limit limit) {
      this.limit = limit; // null: learn it
      this.sharedFromStore = null;
    }

    private Builder(Limit limit, RateLimiter shared, java.util.function.Function<Scheduler, RateLimiter> fromStore) {
      this.limit = limit;
      this.shared = shared;
      this.sharedFromStore = fromStore;
    }

    /** At most this many requests in flight (default 16). */
    public Builder maxInFlight(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("the number in flight must be at least 1, got " + max);
      }
      this.maxInFlight = max;
      return this;
    }

    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Adaptive mode (AIMD), for a server whose limit is unknown; the limit given is then the ceiling. A client that
     * learns its rate ({@link ThrottledHttpClient#builder()}) is adaptive until the server publishes its rate.
     */
    public Builder adaptive(boolean adaptive) {
      this.adaptive = adaptive;
      return this;
    }

    /**
     * The {@link HttpClient} to send with; by default one is built (following redirects, {@link #connectTimeout}).
     * A client given here is not closed by {@link ThrottledHttpClient#close()}, and its threads are its own.
     */
    public Builder httpClient(HttpClient client) {
      this.httpClient = Objects.requireNonNull(client, "client");
      return this;
    }

    /** The HTTP version of the built {@link HttpClient} (its default, HTTP/2 when possible, if not set). */
    public Builder version(HttpClient.Version version) {
      this.version = Objects.requireNonNull(version, "version");
      return this;
    }

    /** The connect timeout of the built {@link HttpClient} (default 10 s). */
    public Builder connectTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("the connect timeout must be positive, got " + timeout);
      }
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * How unevenly requests may travel to the server without arriving above its limit (default 20 ms; 0 to send at
     * exactly the limit). The client keeps its bucket emptier than the limit by the requests the rate refills in
     * this time, which costs this much once per burst. Why: the first requests of a burst open connections and
     * reach the server later than the next ones, so a client at exactly the server's limit gets a 429 a few
     * requests later.
     */
    public Builder jitterMargin(Duration margin) {
      Objects.requireNonNull(margin, "margin");
      if (margin.isNegative() || margin.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("the jitter margin must be between 0 and 1 s, got " + margin);
      }
      this.jitterMargin = margin;
      return this;
    }

    /** The clock for the throttle and for latencies ({@link Clock#system()} by default). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where waits (throttle, retries) are scheduled ({@link Scheduler#shared()} by default). */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The wall clock HTTP-dates are compared with when a response has no {@code Date} header. */
    public Builder wallClock(java.time.Clock wallClock) {
      this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
      return this;
    }

    /** The source of backoff jitter (a seeded one makes waits repeatable in tests). */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    public ThrottledHttpClient build() {
      if (sharedFromStore != null) {
        shared = sharedFromStore.apply(scheduler);
      }
      return new DefaultThrottledHttpClient(this);
    }
  }
}
