package dev.throttle.redis;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.Scheduler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One {@link Limit} per key, shared by every process that uses the same Redis, prefix and limit: the core's
 * {@link KeyedRateLimiter} kept in Redis, a drop-in for the in-process one (the same interface and contract tests, sync
 * and async), with Redis's own {@link #stats()}.
 *
 * <pre>{@code
 * RedisRateLimiter<String> perUser = redis.limiter(Limit.parse("10/s burst 5"))
 *     .timeout(Duration.ofMillis(50))
 *     .onFailure(FailurePolicy.localShare(4))   // 4 servers: each keeps a quarter when Redis is away
 *     .build();
 * perUser.decideAsync(userId, 1).thenAccept(d -> ...); // async: one round trip, never blocks the caller
 * if (perUser.tryAcquire(userId)) { ... }                 // sync: blocks for the round trip, at most the timeout
 * RateLimiter global = perUser.forKey("global");          // the core's interface, for one key
 * }</pre>
 *
 * <h2>How it decides</h2>
 *
 * Every decision is made by one Lua script that runs the core's bucket math exactly (in integers below 2^53; see
 * {@code bucket.lua}) on all the buckets of the limit at once, all or nothing: atomic, no retries, on Redis's clock
 * ({@code TIME}), so the clocks of the servers do not matter. A decision asked while fewer than four of the
 * limiter's decision calls are out is one {@code EVALSHA} of its own, pipelined on the one connection; beyond that,
 * decisions wait for a call to come back and then go together as one script call (per Cluster slot), which decides
 * them in the order they arrived, each against what the ones before it left: each gets the answer it would have got
 * alone, and under load (a hot key above all) Redis runs one script call for many decisions. Each keeps its own
 * timeout from when it was asked. Each bucket is one key with a TTL of its time to full. The numbers of a
 * {@link Decision} are the core's, to the nanosecond (Redis's clock counts microseconds). Exact by default;
 * {@linkplain Builder#lease(long, Duration) leases} (opt-in) trade that for fewer round trips on hot keys.
 *
 * <h2>Waiting</h2>
 *
 * {@link #reserveAsync} asks Redis for a place: when the wait is at most {@code maxWait} the tokens are counted in Redis at
 * once, as of the moment the reservation will be ready, so the waiters of all processes are served first come, first
 * served, and nobody overtakes them; the wait itself is one scheduled task here. Cancelling a waiting reservation
 * gives its tokens back when no later reservation was made on the key; otherwise they stay spent (the waiters in
 * other processes cannot be moved up), and the limit holds with room to spare: {@link #cancellation()} is
 * {@link dev.throttle.core.KeyedRateLimiter.Cancellation#IF_LAST}, and a reservation's
 * {@link dev.throttle.core.Reservation#refunded()} says what its cancel did. With several limits combined, a reservation is counted as
 * of its due time rounded up to the microsecond.
 *
 * <h2>When Redis is away</h2>
 *
 * A call that Redis does not answer within the {@linkplain Builder#timeout(Duration) timeout} (default 50 ms), or
 * answers with an error, is answered by the {@link FailurePolicy} (default {@link FailurePolicy#failClosed()}),
 * counted in {@link #stats()} and logged. After {@linkplain Builder#circuit(int, Duration) some failures in a row}
 * the limiter stops asking Redis for a while and answers by the policy at once, then probes Redis with one call
 * and returns to it when it answers. No call waits longer than the timeout, and no exception other than
 * {@link IllegalArgumentException} for bad arguments (thrown at once) reaches the caller.
 *
 * <p>Futures complete in Lettuce's I/O thread or the timeout's thread: use the {@code ...Async} methods of
 * {@link CompletableFuture} for slow work. Thread-safe.
 */
public interface RedisRateLimiter<K> extends KeyedRateLimiter<K> {

  /**
   * {@link dev.throttle.core.KeyedRateLimiter.Cancellation#IF_LAST}: a cancelled reservation's tokens go back only if
   * no later reservation was made on its key, here or in another process.
   */
  @Override
  Cancellation cancellation();

  /**
   * What {@link #decideAsync} would answer now for {@code key}, taking nothing (one round trip of the same script,
   * which writes nothing for it). When Redis cannot answer, the failure policy answers as it would for a decision.
   */
  @Override
  CompletableFuture<Decision> estimateAsync(K key, long cost);

  /** Counts of decisions so far. */
  @Override
  Stats stats();

  /**
   * Counts of a limiter's decisions since it was built.
   *
   * @param fromRedis decisions and reservations that Redis answered
   * @param degraded answered by the failure policy instead (the sum of the next three)
   * @param timeouts degraded because Redis did not answer within the timeout
   * @param errors degraded because the connection was down or Redis answered with an error
   * @param circuitOpen degraded without asking Redis, while the circuit was open
   * @param shortCircuited refused locally by the short-circuit, without a round trip
   * @param circuitIsOpen whether the circuit is open now
   * @param lateAnswers timed-out calls that Redis answered afterwards (too late to be used): Redis was up and the
   *     machine or the network slow, where a timeout without a late answer is an outage
   * @param leased allowed from a {@linkplain Builder#lease(long, Duration) lease}, without a round trip (a lease
   *     call itself counts in {@code fromRedis})
   */
  record Stats(long fromRedis, long degraded, long timeouts, long errors, long circuitOpen, long shortCircuited,
      boolean circuitIsOpen, long lateAnswers, long leased) implements KeyedRateLimiter.Stats {
    /** The counts by name; {@code circuitIsOpen} as 1 or 0. */
    @Override
    public Map<String, Long> counts() {
      Map<String, Long> counts = new LinkedHashMap<>();
      counts.put("fromRedis", fromRedis);
      counts.put("degraded", degraded);
      counts.put("timeouts", timeouts);
      counts.put("errors", errors);
      counts.put("circuitOpen", circuitOpen);
      counts.put("shortCircuited", shortCircuited);
      counts.put("circuitIsOpen", circuitIsOpen ? 1L : 0L);
      counts.put("lateAnswers", lateAnswers);
      counts.put("leased", leased);
      return counts;
    }
  }

  /** Configures a {@link RedisRateLimiter}; from {@link RedisLimits#limiter(Limit)}. */
  final class Builder<K> {
    /**
     * 50 ms: what a real network meets, not only a loopback one. A round trip is well below a millisecond in one
     * data centre, but a fresh process's first calls run cold code (JIT) and a first connection, a client's GC
     * pause or a Redis fork for a snapshot adds tens of milliseconds, and 5 ms (the earlier default) refused the
     * first request of a fresh application under fail-closed. A timeout is paid only until the circuit opens (5
     * failures in a row by default), so a dead Redis costs a few slow calls, not one per request; the gateway
     * chose the same. Lower it where Redis is close and the latency budget is tight.
     */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);

    /** How long a lease's tokens are kept at most, by default. */
    static final Duration DEFAULT_LEASE_HOLD = Duration.ofSeconds(1);

    final RedisLimits redis;
    final Limit limit;
    final Function<? super K, byte[]> encoder;
    String prefix = "throttle:";
    Duration timeout = DEFAULT_TIMEOUT;
    FailurePolicy failurePolicy = FailurePolicy.failClosed();
    int circuitFailures = 5;
    Duration circuitOpen = Duration.ofSeconds(1);
    boolean shortCircuit;
    long leaseTokens;
    Duration leaseMaxHold = DEFAULT_LEASE_HOLD;
    Clock clock;
    Scheduler scheduler = Scheduler.shared();

    Builder(RedisLimits redis, Limit limit, Function<? super K, byte[]> encoder) {
      this.redis = Objects.requireNonNull(redis, "redis");
      this.limit = Objects.requireNonNull(limit, "limit");
      this.encoder = encoder;
    }

    private Builder(Builder<?> from, Function<? super K, byte[]> encoder) {
      this(from.redis, from.limit, encoder);
      this.prefix = from.prefix;
      this.timeout = from.timeout;
      this.failurePolicy = from.failurePolicy;
      this.circuitFailures = from.circuitFailures;
      this.circuitOpen = from.circuitOpen;
      this.shortCircuit = from.shortCircuit;
      this.leaseTokens = from.leaseTokens;
      this.leaseMaxHold = from.leaseMaxHold;
      this.clock = from.clock;
      this.scheduler = from.scheduler;
    }

    static byte[] utf8(String key) {
      return key.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Keys of another type, turned into bytes by {@code encoder} (any bytes; longer than 64 they are hashed).
     * Two keys that encode to the same bytes share a bucket.
     */
    public <K2> Builder<K2> keys(Function<? super K2, byte[]> encoder) {
      return new Builder<>(this, Objects.requireNonNull(encoder, "encoder"));
    }

    /**
     * The start of every Redis key of this limiter (default {@code throttle:}); limiters with the same prefix and
     * limit share their buckets. No braces: the caller key is the Cluster hash tag.
     */
    public Builder<K> prefix(String prefix) {
      this.prefix = Keys.checkPrefix(prefix);
      return this;
    }

    /** How long to wait for Redis before answering by the failure policy; default 50 ms (see why above). */
    public Builder<K> timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** What to answer when Redis cannot; {@link FailurePolicy#failClosed()} by default. */
    public Builder<K> onFailure(FailurePolicy policy) {
      this.failurePolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Opens the circuit after {@code failures} failed calls in a row, and keeps it open for {@code openFor} before
     * probing Redis again; default 5 failures, 1 second. A fail-closed refusal announces {@code openFor} as its wait.
     */
    public Builder<K> circuit(int failures, Duration openFor) {
      if (failures < 1) {
        throw new IllegalArgumentException("the circuit needs at least 1 failure to open, got " + failures);
      }
      Objects.requireNonNull(openFor, "openFor");
      if (openFor.isNegative() || openFor.isZero()) {
        throw new IllegalArgumentException("the circuit's open time must be positive, got " + openFor);
      }
      this.circuitFailures = failures;
      this.circuitOpen = openFor;
      return this;
    }

    /**
     * Opt-in: a key that Redis refused with a wait is refused locally until then (for that cost or more), with the
     * same decision counted down, without a round trip. Saves Redis from clients that retry at once. A reservation
     * cancelled elsewhere may free tokens a little earlier than this process knows.
     */
    public Builder<K> localShortCircuit(boolean enabled) {
      this.shortCircuit = enabled;
      return this;
    }

    /**
     * Opt-in, off by default: trades exactness for round trips on hot keys. A key asked again within
     * {@code maxHold} takes a lease: its decision asks Redis for its cost plus {@code tokens}, and the decisions
     * that follow here spend those tokens without a round trip, until they run out or {@code maxHold} has passed
     * (the rest is then dropped). Every token is still granted by Redis, but spent later: in any window a key's
     * admissions may exceed the limit by at most {@code tokens} times the number of processes sharing it. A key
     * that Redis cannot lease to (its bucket holds less) is decided exactly, one call a decision, until the wait
     * Redis gave. Like Bucket4j's delayed synchronisation, with the bound on the other side: tokens are taken
     * before they are spent, so the error is a delay, never a count Redis did not see.
     *
     * @param tokens the lease's size, 1 to the limit's burst
     * @param maxHold how long a lease's tokens are kept at most (default 1 s with {@link #lease(long)})
     */
    public Builder<K> lease(long tokens, Duration maxHold) {
      if (tokens < 1 || tokens > limit.burst()) {
        throw new IllegalArgumentException("a lease must be of 1 to " + limit.burst() + " tokens (the burst of the"
            + " limit '" + limit + "'), got " + tokens);
      }
      Objects.requireNonNull(maxHold, "maxHold");
      if (maxHold.isNegative() || maxHold.isZero()) {
        throw new IllegalArgumentException("a lease's hold must be positive, got " + maxHold);
      }
      this.leaseTokens = tokens;
      this.leaseMaxHold = maxHold;
      return this;
    }

    /** {@link #lease(long, Duration)} with a hold of 1 s. */
    public Builder<K> lease(long tokens) {
      return lease(tokens, DEFAULT_LEASE_HOLD);
    }

    /**
     * For one setting that serves limits of every burst (the gateway's {@code redis-lease}, the starter's
     * {@code throttle.redis-lease}): leases of {@code tokens} capped at this limit's burst, with a hold of 1 s; none
     * for 0.
     *
     * @throws IllegalArgumentException if {@code tokens} is negative
     */
    public Builder<K> leaseAtMost(long tokens) {
      if (tokens < 0) {
        throw new IllegalArgumentException("a lease must be 0 (none) or a number of tokens, got " + tokens);
      }
      return tokens == 0 ? this : lease(Math.min(tokens, limit.burst()));
    }

    /**
     * For tests and simulations: decide on this clock instead of Redis {@code TIME} (its
     * {@linkplain Clock#unixNanosAt Unix time}, in microseconds, which must lie between 1970 and 2112), and wait on
     * {@link #scheduler(Scheduler)}. Every process must then use the same clock; keys expire no sooner than an hour,
     * since Redis expires them on its own clock.
     */
    public Builder<K> clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where waiting reservations become ready; {@link Scheduler#shared()} by default. */
    public Builder<K> scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * The limiter.
     *
     * @throws IllegalArgumentException if the limit cannot be counted exactly on Redis (the message names the
     *     bucket and the largest burst that fits), or the local fallback's share of it is invalid
     */
    public RedisRateLimiter<K> build() {
      return new LuaRateLimiter<>(this);
    }
  }
}
