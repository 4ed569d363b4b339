package dev.throttle.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** {@link LimiterListener#observing(RateLimitStore, LimiterListener)}. */
final class ObservedStore<K> implements RateLimitStore<K> {

  private final RateLimitStore<K> delegate;
  private final LimiterListener listener;

  ObservedStore(RateLimitStore<K> delegate, LimiterListener listener) {
    this.delegate = delegate;
    this.listener = listener;
  }

  @Override
  public Limit limit() {
    return delegate.limit();
  }

  @Override
  public CompletableFuture<Decision> decide(K key, long cost) {
    return delegate.decide(key, cost).thenApply(d -> {
      Observations.tell(listener, cost, d);
      return d;
    });
  }

  @Override
  public CompletableFuture<Reservation> reserve(K key, long cost, Duration maxWait) {
    return delegate.reserve(key, cost, maxWait).thenApply(r -> Observations.tell(listener, cost, r));
  }

  @Override
  public CompletableFuture<Decision> estimate(K key, long cost) {
    return delegate.estimate(key, cost);
  }

  @Override
  public Cancellation cancellation() {
    return delegate.cancellation();
  }

  @Override
  public String toString() {
    return "Observed[" + delegate + "]";
  }
}
