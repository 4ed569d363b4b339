package dev.throttle.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * An in-process rate limiter: one {@link Limit}, exact, thread-safe, with no refill thread.
 *
 * <pre>{@code
 * RateLimiter limiter = RateLimiter.of(Limit.parse("100/s burst 20"));
 * if (limiter.tryAcquire()) { ... }          // never waits
 * limiter.acquire(5);                         // waits (interruptibly) for 5 tokens, first come first served
 * limiter.acquireAsync().thenRun(this::send); // waits without a thread
 * }</pre>
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>Exact: in any window of length {@code t}, a greedy limit grants at most {@code burst + floor(rate * t)}
 *       tokens, computed in integers (see {@link Limit} and the essay in the source of {@code BucketMath}).
 *   <li>First come, first served: once a request waits, no later request is granted before it, whatever its cost.
 *       {@link #tryAcquire(long)} fails while anyone waits.
 *   <li>Cancellation returns tokens: a wait that is interrupted, cancelled or times out leaves the limiter exactly as
 *       if it had never been asked, and the requests behind it move up ({@link #cancellation()}; a limiter kept
 *       in Redis promises less and says so).
 *   <li>A cost above the limit's burst fails at once with {@link IllegalArgumentException} (it could never pass).
 *   <li>Fast: for a one-bucket limit, {@link #tryAcquire(long)} is one clock read and one compare-and-set, with no
 *       lock and no allocation.
 * </ul>
 *
 * <p>Waiting uses one task on a {@link Scheduler} per limiter (for its first waiter), never a thread per waiter.
 * The leaky bucket of nginx {@code limit_req} with {@code burst} is this limiter used with
 * {@link #reserve(long, Duration)}: requests beyond the burst wait for their slot, up to a maximum wait.
 */
public interface RateLimiter {

  /** A limiter on the system clock and the shared scheduler. */
  static RateLimiter of(Limit limit) {
    return builder(limit).build();
  }

  /** A builder, to choose the clock and the scheduler (tests pass a {@link ManualClock} for both). */
  static Builder builder(Limit limit) {
    return new Builder(limit);
  }

  /** The limit this limiter enforces (the latest given to {@link #changeLimit}). */
  Limit limit();

  /** {@link #tryAcquire(long) tryAcquire(1)}. */
  default boolean tryAcquire() {
    return tryAcquire(1);
  }

  /**
   * Takes {@code cost} tokens if they are there now and nobody is waiting; never waits.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  boolean tryAcquire(long cost);

  /**
   * Takes {@code cost} tokens, waiting up to {@code timeout} for them. Returns false at once, without waiting,
   * when the wait would be longer than {@code timeout}; it never waits and then fails.
   *
   * @throws InterruptedException if interrupted while waiting (the tokens are then returned)
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  default boolean tryAcquire(long cost, Duration timeout) throws InterruptedException {
    Reservation reservation = reserve(cost, timeout);
    if (!reservation.isGranted()) {
      return false;
    }
    reservation.await();
    return true;
  }

  /** {@link #acquire(long) acquire(1)}. */
  default void acquire() throws InterruptedException {
    acquire(1);
  }

  /**
   * Takes {@code cost} tokens, waiting as long as needed, first come first served.
   *
   * @throws InterruptedException if interrupted while waiting (the tokens are then returned)
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   * @throws RateLimitExceededException if it cannot be granted (a wait beyond about 73 years; a store that refuses
   *     outright), as {@link KeyedRateLimiter#acquire(Object, long)}
   */
  default void acquire(long cost) throws InterruptedException {
    Reservation reservation = reserve(cost);
    if (!reservation.isGranted()) {
      throw Reservations.refusal(cost, reservation.decision());
    }
    reservation.await();
  }

  /** {@link #acquireAsync(long) acquireAsync(1)}. */
  default CompletableFuture<Void> acquireAsync() {
    return acquireAsync(1);
  }

  /**
   * A future completed when {@code cost} tokens have been taken, first come first served, without a thread per
   * waiter. Cancelling the future before it completes returns the tokens (the requests behind move up).
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  default CompletableFuture<Void> acquireAsync(long cost) {
    return reserve(cost).whenReady();
  }

  /** {@link #reserve(long, Duration)} with no limit on the wait. */
  Reservation reserve(long cost);

  /**
   * Reserves {@code cost} tokens: ready now, or a place in the queue when the wait is at most {@code maxWait},
   * or not granted (nothing taken) when it would be longer.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst, or {@code maxWait} is
   *     negative
   */
  Reservation reserve(long cost, Duration maxWait);

  /**
   * Takes {@code cost} tokens if they are there now and nobody is waiting, and says so with the numbers a response
   * needs: remaining tokens, the wait until this request would pass, and the time until the bucket is full.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   */
  Decision decide(long cost);

  /**
   * What cancelling a waiting reservation gives back: {@link KeyedRateLimiter.Cancellation#EXACT} in process (the
   * limiter is as if it had never been asked); a limiter kept elsewhere says what it keeps (Redis:
   * {@link KeyedRateLimiter.Cancellation#IF_LAST}).
   */
  default KeyedRateLimiter.Cancellation cancellation() {
    return KeyedRateLimiter.Cancellation.EXACT;
  }

  /**
   * The tokens a request could take now without waiting: the fewest over the limit's buckets, 0 while requests
   * wait (Bucket4j's {@code getAvailableTokens}). Takes nothing. A snapshot: another caller may take them first.
   *
   * @throws UnsupportedOperationException from an implementation that cannot tell (every limiter of Throttle can)
   */
  default long available() {
    throw new UnsupportedOperationException(getClass().getName() + " does not implement available()");
  }

  /**
   * What {@link #decide(long) decide(cost)} would answer now, taking nothing (Bucket4j's
   * {@code estimateAbilityToConsume}): allowed, with the tokens that would remain, or refused, with the wait until
   * it would pass. A snapshot: another caller may take the tokens first.
   *
   * @throws IllegalArgumentException if {@code cost} is below 1 or above the limit's burst
   * @throws UnsupportedOperationException from an implementation that cannot tell (every limiter of Throttle can)
   */
  default Decision estimate(long cost) {
    throw new UnsupportedOperationException(getClass().getName() + " does not implement estimate(long)");
  }

  /**
   * Enforces {@code limit} from now on, keeping the state fair (Bucket4j's {@code replaceConfiguration},
   * Resilience4j's {@code changeLimitForPeriod}). The rule: <b>tokens carry over, capped at the new burst</b>. Each
   * bucket of the new limit holds what the bucket in the same place of the old limit held (or, when the limits have
   * different numbers of buckets, the fewest any old bucket held), never more than its new burst; the whole tokens
   * carried are exactly the whole tokens held. The refill goes on at the new rate from now (interval boundaries stay
   * on the Unix clock). Waiting reservations keep their places, in order, and are granted under the new limit
   * (sooner after a raise, later after a cut); their {@code delay()} stays the estimate made when they were made.
   * After the change, the new limit's bound holds: in any window starting at or after it, at most
   * {@code newBurst + floor(newRate * t)} tokens.
   *
   * @throws IllegalArgumentException if a waiting reservation's cost exceeds the new limit's burst (then nothing
   *     changes: lower the limit once it has passed)
   * @throws UnsupportedOperationException from a limiter whose limit cannot change (one kept in Redis: its keys
   *     are named after the limit, so that limiters with other limits do not share them)
   */
  default void changeLimit(Limit limit) {
    throw new UnsupportedOperationException(getClass().getName() + " cannot change its limit");
  }

  /** Configures a {@link RateLimiter}. */
  final class Builder {
    private final Limit limit;
    private Clock clock = Clock.system();
    private Scheduler scheduler = Scheduler.shared();

    private Builder(Limit limit) {
      this.limit = Objects.requireNonNull(limit, "limit");
    }

    /** The clock; {@link Clock#system()} by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where wake-ups for waiters run; {@link Scheduler#shared()} by default. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The limiter. */
    public RateLimiter build() {
      return new BucketRateLimiter(new Engine(limit, clock, scheduler));
    }
  }
}
