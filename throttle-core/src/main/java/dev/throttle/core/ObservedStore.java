package dev.throttle.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** {@link LimiterListener#observing(KeyedRateLimiter, LimiterListener)}. */
final class ObservedStore<K> implements KeyedRateLimiter<K> {

  private final KeyedRateLimiter<K> delegate;
  private final LimiterListener listener;

  ObservedStore(KeyedRateLimiter<K> delegate, LimiterListener listener) {
    this.delegate = delegate;
    this.listener = listener;
  }

  @Override
  public Limit limit() {
    return delegate.limit();
  }

  @Override
  public Decision decide(K key, long cost) {
    Decision d = delegate.decide(key, cost);
    Observations.tell(listener, cost, d);
    return d;
  }

  @Override
  public Decision estimate(K key, long cost) {
    return delegate.estimate(key, cost);
  }

  @Override
  public Reservation reserve(K key, long cost, Duration maxWait) {
    return Observations.tell(listener, cost, delegate.reserve(key, cost, maxWait));
  }

  @Override
  public CompletableFuture<Decision> decideAsync(K key, long cost) {
    return delegate.decideAsync(key, cost).thenApply(d -> {
      Observations.tell(listener, cost, d);
      return d;
    });
  }

  @Override
  public CompletableFuture<Decision> estimateAsync(K key, long cost) {
    return delegate.estimateAsync(key, cost);
  }

  @Override
  public CompletableFuture<Reservation> reserveAsync(K key, long cost, Duration maxWait) {
    return delegate.reserveAsync(key, cost, maxWait).thenApply(r -> Observations.tell(listener, cost, r));
  }

  @Override
  public Cancellation cancellation() {
    return delegate.cancellation();
  }

  @Override
  public Stats stats() {
    return delegate.stats();
  }

  @Override
  public String toString() {
    return "Observed[" + delegate + "]";
  }
}
