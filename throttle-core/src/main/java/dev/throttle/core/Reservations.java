package dev.throttle.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The two reservations that never wait in a queue (ready at once, and not granted), and what every keyed limiter
 * shares: the refusal of an acquire, an async acquire from an async reservation, one key as a {@link RateLimiter}.
 */
final class Reservations {

  private Reservations() {}

  /** No limit on the wait: saturated to the longest wait of the core (about 73 years). */
  static final Duration FOREVER = Duration.ofNanos(Engine.MAX_WAIT_NANOS);

  /** What an acquire that cannot be granted throws, everywhere: the same exception for the same event. */
  static RateLimitExceededException refusal(long cost, Decision decision) {
    return new RateLimitExceededException("no room for " + cost + (cost == 1 ? " token: " : " tokens: ") + decision,
        decision);
  }

  /**
   * A future completed when the reservation that {@code reservation} completes with is ready; failed with
   * {@link RateLimitExceededException} if it is not granted. Cancelling the returned future cancels the reservation
   * (also one that arrives after the cancel). Never blocks.
   */
  static CompletableFuture<Void> whenReady(CompletableFuture<Reservation> reservation, long cost) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    reservation.whenComplete((r, failure) -> {
      if (failure != null) {
        done.completeExceptionally(failure);
        return;
      }
      if (!r.isGranted()) {
        done.completeExceptionally(refusal(cost, r.decision()));
        return;
      }
      done.whenComplete((v, e) -> {
        if (e != null) {
          r.cancel();
        }
      });
      r.whenReady().whenComplete((v, e) -> {
        if (e == null) {
          done.complete(null);
        } else {
          done.completeExceptionally(e);
        }
      });
    });
    return done;
  }

  /** One key of a keyed limiter as a {@link RateLimiter}: every call goes to the keyed limiter, async to async. */
  static final class KeyView<K> implements RateLimiter {
    private final KeyedRateLimiter<K> keyed;
    private final K key;

    KeyView(KeyedRateLimiter<K> keyed, K key) {
      this.keyed = keyed;
      this.key = java.util.Objects.requireNonNull(key, "key");
    }

    @Override
    public Limit limit() {
      return keyed.limit();
    }

    @Override
    public boolean tryAcquire(long cost) {
      return keyed.tryAcquire(key, cost);
    }

    @Override
    public boolean tryAcquire(long cost, Duration timeout) throws InterruptedException {
      return keyed.tryAcquire(key, cost, timeout);
    }

    @Override
    public void acquire(long cost) throws InterruptedException {
      keyed.acquire(key, cost);
    }

    @Override
    public CompletableFuture<Void> acquireAsync(long cost) {
      return keyed.acquireAsync(key, cost);
    }

    @Override
    public Reservation reserve(long cost) {
      return keyed.reserve(key, cost);
    }

    @Override
    public Reservation reserve(long cost, Duration maxWait) {
      return keyed.reserve(key, cost, maxWait);
    }

    @Override
    public Decision decide(long cost) {
      return keyed.decide(key, cost);
    }

    @Override
    public Decision estimate(long cost) {
      return keyed.estimate(key, cost);
    }

    @Override
    public long available() {
      return keyed.available(key);
    }

    @Override
    public KeyedRateLimiter.Cancellation cancellation() {
      return keyed.cancellation();
    }

    @Override
    public String toString() {
      return keyed + " for key " + key;
    }
  }

  /** Ready at once: the tokens were taken when it was made. */
  static final class Immediate implements Reservation {
    private final Decision decision;

    Immediate(Decision decision) {
      this.decision = decision;
    }

    @Override
    public boolean isGranted() {
      return true;
    }

    @Override
    public Decision decision() {
      return decision;
    }

    @Override
    public Duration delay() {
      return Duration.ZERO;
    }

    @Override
    public long delayNanos() {
      return 0;
    }

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public CompletableFuture<Void> whenReady() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void await() {}

    @Override
    public boolean cancel() {
      return false;
    }

    @Override
    public String toString() {
      return "Reservation[ready, " + decision + "]";
    }
  }

  /** Not granted: the wait would have been longer than allowed. Nothing was queued or taken. */
  static final class Refused implements Reservation {
    private final Decision decision;

    Refused(Decision decision) {
      this.decision = decision;
    }

    private RateLimitExceededException exception() {
      return new RateLimitExceededException(
          "the wait of " + decision.waitTime() + " would exceed the maximum wait allowed", decision);
    }

    @Override
    public boolean isGranted() {
      return false;
    }

    @Override
    public Decision decision() {
      return decision;
    }

    @Override
    public Duration delay() {
      return decision.waitTime();
    }

    @Override
    public long delayNanos() {
      return decision.waitNanos();
    }

    @Override
    public boolean isReady() {
      return false;
    }

    @Override
    public CompletableFuture<Void> whenReady() {
      return CompletableFuture.failedFuture(exception());
    }

    @Override
    public void await() {
      throw exception();
    }

    @Override
    public boolean cancel() {
      return false;
    }

    @Override
    public String toString() {
      return "Reservation[not granted, " + decision + "]";
    }
  }
}
