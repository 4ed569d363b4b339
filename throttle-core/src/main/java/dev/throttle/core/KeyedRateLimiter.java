package dev.throttle.core;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One {@link Limit} per key (user, API key, client address...), each key with its own bucket, kept in some store:
 * in this process ({@link #of}, {@link #builder}: a {@link LocalKeyedRateLimiter}) or in Redis, shared by every
 * process (throttle-redis: {@code RedisLimits.limiter(limit).build()}). Code written against this interface runs
 * unchanged on either; choosing the store is one line:
 *
 * <pre>{@code
 * KeyedRateLimiter<String> perUser = KeyedRateLimiter.of(Limit.parse("10/s burst 5"));   // in this process
 * KeyedRateLimiter<String> perUser = redis.limiter(Limit.parse("10/s burst 5")).build(); // shared, in Redis
 *
 * if (perUser.tryAcquire(userId)) { ... }                          // sync: never waits (on Redis: one round trip)
 * perUser.decideAsync(userId, 1).thenAccept(d -> ...);              // async: never blocks the calling thread
 * perUser.acquireAsync(userId).thenRun(this::send);                 // waits without a thread
 * RateLimiter global = perUser.forKey("global");                    // one key as the core's RateLimiter
 * }</pre>
 *
 * <h2>Sync and async</h2>
 *
 * Every operation has both forms. A sync method of a remote store blocks for its round trip (never longer than the
 * store's timeout); an {@code ...Async} method never blocks the calling thread on any store: it returns a future
 * that the store completes (in process: completed already when returned). Arguments are checked at once in both
 * forms: a bad cost or a negative wait throws {@link IllegalArgumentException} from the call itself.
 *
 * <h2>What every store promises</h2>
 *
 * The guarantees of {@link RateLimiter} hold per key: exact limits, first come first served, all or nothing across
 * the buckets of a combined limit, a cost above the burst refused at once. One promise differs and is stated by
 * {@link #cancellation()}: in process a cancelled reservation leaves the key exactly as if it had never been made
 * ({@link Cancellation#EXACT}); in Redis, whose waiters may be in other processes, only when no later reservation was
 * made ({@link Cancellation#IF_LAST}). One contract test suite runs against every store, sync and async.
 *
 * <p>Refusals that end a wait ({@link #acquire}, {@link #acquireAsync}) are {@link RateLimitExceededException}, with
 * the decision. Thread-safe.
 */
public interface KeyedRateLimiter<K> {

  /** A per-key limiter in this process, on the system clock and shared scheduler, with at most 1,000,000 keys. */
  static <K> LocalKeyedRateLimiter<K> of(Limit limit) {
    return LocalKeyedRateLimiter.of(limit);
  }

  /** A builder of a per-key limiter in this process (clock, scheduler, maximum number of keys). */
  static <K> LocalKeyedRateLimiter.Builder<K> builder(Limit limit) {
    return LocalKeyedRateLimiter.builder(limit);
  }

  /** The limit each key gets. */
  Limit limit();

  // ---- sync ----

  /** {@link #tryAcquire(Object, long) tryAcquire(key, 1)}. */
  default boolean tryAcquire(K key) {
    return tryAcquire(key, 1);
  }

  /**
   * Takes {@code cost} tokens for {@code key} if they are there now and nobody waits; never waits for tokens.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  default boolean tryAcquire(K key, long cost) {
    return decide(key, cost).isAllowed();
  }

  /** {@link #decide(Object, long) decide(key, 1)}. */
  default Decision decide(K key) {
    return decide(key, 1);
  }

  /**
   * Takes {@code cost} tokens for {@code key} if they are there now and nobody waits, and says so with remaining,
   * wait and reset ({@link RateLimiter#decide(long)}).
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  Decision decide(K key, long cost);

  /**
   * What {@link #decide} would answer now for {@code key}, taking nothing (and adding no key). A snapshot: another
   * caller may take the tokens first.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  Decision estimate(K key, long cost);

  /**
   * The tokens a request for {@code key} could take now without waiting (0 while requests wait); takes nothing.
   */
  default long available(K key) {
    Decision d = estimate(key, 1);
    return d.isAllowed() ? d.remaining() + 1 : d.remaining();
  }

  /** {@link #reserve(Object, long, Duration)} with no limit on the wait. */
  default Reservation reserve(K key, long cost) {
    return reserve(key, cost, Reservations.FOREVER);
  }

  /**
   * Reserves {@code cost} tokens for {@code key}: ready now, a place in the queue when the wait is at most
   * {@code maxWait}, or not granted (nothing taken). Cancelling a waiting reservation gives back what
   * {@link #cancellation()} says.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the burst, or {@code maxWait} is negative
   */
  Reservation reserve(K key, long cost, Duration maxWait);

  /** {@link #acquire(Object, long) acquire(key, 1)}. */
  default void acquire(K key) throws InterruptedException {
    acquire(key, 1);
  }

  /**
   * Takes {@code cost} tokens for {@code key}, waiting as long as needed, first come first served.
   *
   * @throws InterruptedException if interrupted while waiting (the reservation is then cancelled)
   * @throws RateLimitExceededException if the store refused outright (a new key with no room, a failure policy)
   */
  default void acquire(K key, long cost) throws InterruptedException {
    Reservation reservation = reserve(key, cost);
    if (!reservation.isGranted()) {
      throw Reservations.refusal(cost, reservation.decision());
    }
    reservation.await();
  }

  /**
   * Takes {@code cost} tokens for {@code key}, waiting up to {@code timeout}; false at once, without waiting, when
   * the wait would be longer.
   *
   * @throws InterruptedException if interrupted while waiting (the reservation is then cancelled)
   */
  default boolean tryAcquire(K key, long cost, Duration timeout) throws InterruptedException {
    Reservation reservation = reserve(key, cost, timeout);
    if (!reservation.isGranted()) {
      return false;
    }
    reservation.await();
    return true;
  }

  // ---- async: never blocks the calling thread ----

  /** {@link #tryAcquireAsync(Object, long) tryAcquireAsync(key, 1)}. */
  default CompletableFuture<Boolean> tryAcquireAsync(K key) {
    return tryAcquireAsync(key, 1);
  }

  /** {@link #tryAcquire(Object, long)} as a future. */
  default CompletableFuture<Boolean> tryAcquireAsync(K key, long cost) {
    return decideAsync(key, cost).thenApply(Decision::isAllowed);
  }

  /** {@link #decideAsync(Object, long) decideAsync(key, 1)}. */
  default CompletableFuture<Decision> decideAsync(K key) {
    return decideAsync(key, 1);
  }

  /** {@link #decide(Object, long)} as a future. */
  CompletableFuture<Decision> decideAsync(K key, long cost);

  /** {@link #estimate(Object, long)} as a future. */
  CompletableFuture<Decision> estimateAsync(K key, long cost);

  /** {@link #available(Object)} as a future. */
  default CompletableFuture<Long> availableAsync(K key) {
    return estimateAsync(key, 1).thenApply(d -> d.isAllowed() ? d.remaining() + 1 : d.remaining());
  }

  /** {@link #reserve(Object, long, Duration)} as a future. */
  CompletableFuture<Reservation> reserveAsync(K key, long cost, Duration maxWait);

  /** {@link #acquireAsync(Object, long) acquireAsync(key, 1)}. */
  default CompletableFuture<Void> acquireAsync(K key) {
    return acquireAsync(key, 1);
  }

  /**
   * A future completed when {@code cost} tokens have been taken for {@code key}, waiting as long as needed, first
   * come first served, without a thread per waiter. Cancelling it before it completes cancels the reservation.
   * Fails with {@link RateLimitExceededException} when the store refuses outright.
   */
  default CompletableFuture<Void> acquireAsync(K key, long cost) {
    return Reservations.whenReady(reserveAsync(key, cost, Reservations.FOREVER), cost);
  }

  // ---- views and facts ----

  /**
   * This limiter for one key, as the core's {@link RateLimiter} (for example one global limit shared by every
   * process). Its sync methods are this limiter's sync methods, its {@link RateLimiter#acquireAsync(long)} this
   * limiter's {@link #acquireAsync(Object, long)}: it never blocks the caller on a remote store either.
   */
  default RateLimiter forKey(K key) {
    return new Reservations.KeyView<>(this, key);
  }

  /** What cancelling a waiting reservation gives back in this store. */
  Cancellation cancellation();

  /** Counts kept by this store since it was built; each store has its own (its type says which). */
  Stats stats();

  /**
   * Counts a store keeps about itself; each store's own record ({@link LocalKeyedRateLimiter.Stats}, throttle-redis's
   * {@code RedisRateLimiter.Stats}) implements this, so metrics can read any store.
   */
  interface Stats {
    /** Every count by name (the record's component names), in a stable order. */
    Map<String, Long> counts();
  }

  /** What cancelling a waiting reservation gives back; stores differ, and each states which it keeps. */
  enum Cancellation {
    /**
     * The waiters of a key are one queue: cancelling frees the place, the reservations behind move up, and the key
     * is exactly as if the reservation had never been made. In process ({@link LocalKeyedRateLimiter},
     * {@link RateLimiter}).
     */
    EXACT,
    /**
     * Each reservation is given its time when it is made, and the waiters may be in other processes, so they cannot
     * be moved up: cancelling gives the tokens back (exactly, as if it had never been made) only if no later
     * reservation was made on the key since; otherwise its tokens stay spent, and the limit holds with room to
     * spare. Redis.
     */
    IF_LAST
  }
}
