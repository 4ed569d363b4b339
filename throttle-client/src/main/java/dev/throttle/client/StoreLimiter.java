package dev.throttle.client;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Reservation;
import dev.throttle.core.Scheduler;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One key of a {@link KeyedRateLimiter} as the {@link RateLimiter} a {@link ThrottledHttpClient} takes its slots from
 * ({@link ThrottledHttpClient#builder(KeyedRateLimiter, Object)}): every client on the same store and key shares one
 * quota, in this process or, on Redis, in all of them.
 *
 * <p>{@link #acquireAsync(long)}, the one call the client makes, never blocks: it reserves in the store and
 * completes when the reservation is ready. A reservation the store does not grant (only a failure policy that
 * refuses does so, since the wait asked for is unbounded) is asked for again once the wait it names has passed
 * (between {@value #MIN_RETRY_MS} ms and {@value #MAX_RETRY_MS} ms), so a client waits out an outage of its store
 * instead of failing its calls. The other methods are the store's own view of the key ({@link
 * KeyedRateLimiter#forKey}).
 */
final class StoreLimiter<K> implements RateLimiter {

  static final long MIN_RETRY_MS = 10;
  static final long MAX_RETRY_MS = 1000;
  private static final Duration NO_LIMIT = Duration.ofNanos(Long.MAX_VALUE); // saturated by the store

  private final KeyedRateLimiter<K> store;
  private final K key;
  private final RateLimiter view; // the store's own view of the key, for everything but acquireAsync
  private final Scheduler scheduler;

  StoreLimiter(KeyedRateLimiter<K> store, K key, Scheduler scheduler) {
    this.store = Objects.requireNonNull(store, "store");
    this.key = Objects.requireNonNull(key, "key");
    this.view = store.forKey(key);
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  @Override
  public Limit limit() {
    return view.limit();
  }

  @Override
  public boolean tryAcquire(long cost) {
    return view.tryAcquire(cost);
  }

  @Override
  public Reservation reserve(long cost) {
    return view.reserve(cost);
  }

  @Override
  public Reservation reserve(long cost, Duration maxWait) {
    return view.reserve(cost, maxWait);
  }

  @Override
  public Decision decide(long cost) {
    return view.decide(cost);
  }

  @Override
  public Decision estimate(long cost) {
    return view.estimate(cost);
  }

  @Override
  public KeyedRateLimiter.Cancellation cancellation() {
    return view.cancellation();
  }

  @Override
  public CompletableFuture<Void> acquireAsync(long cost) {
    store.limit().checkCost(cost);
    Acquisition a = new Acquisition();
    attempt(a, cost);
    return a;
  }

  private void attempt(Acquisition a, long cost) {
    if (a.isDone()) {
      return;
    }
    CompletableFuture<Reservation> asked;
    try {
      asked = store.reserveAsync(key, cost, NO_LIMIT);
    } catch (RuntimeException e) {
      a.completeExceptionally(e);
      return;
    }
    asked.whenComplete((reservation, error) -> {
      if (error != null) {
        a.completeExceptionally(error);
      } else if (!reservation.isGranted()) {
        long waitMs = Math.max(MIN_RETRY_MS, Math.min(MAX_RETRY_MS, reservation.decision().waitNanos() / 1_000_000));
        a.retry = scheduler.schedule(() -> attempt(a, cost), waitMs * 1_000_000);
        if (a.isDone()) {
          a.retry.cancel();
        }
      } else {
        a.reservation = reservation;
        reservation.whenReady().whenComplete((ready, failure) -> {
          if (failure != null) {
            a.completeExceptionally(failure);
          } else {
            a.complete(null);
          }
        });
        if (a.isDone()) {
          reservation.cancel(); // cancelled while the store was answering: give the place up
        }
      }
    });
  }

  @Override
  public String toString() {
    return "RateLimiter[" + store.limit() + ", key " + key + " of " + store + "]";
  }

  /** The future handed out: cancelling it cancels the reservation, or the retry, under way. */
  private static final class Acquisition extends CompletableFuture<Void> {
    volatile Reservation reservation;
    volatile Scheduler.Cancellable retry;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        Reservation r = reservation;
        if (r != null) {
          r.cancel();
        }
        Scheduler.Cancellable c = retry;
        if (c != null) {
          c.cancel();
        }
      }
      return cancelled;
    }
  }
}
