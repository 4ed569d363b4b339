package dev.throttle.core;

import java.time.Duration;

/** {@link LimiterListener#observing(RateLimiter, LimiterListener)}. */
final class ObservedRateLimiter implements RateLimiter {

  private final RateLimiter delegate;
  private final LimiterListener listener;

  ObservedRateLimiter(RateLimiter delegate, LimiterListener listener) {
    this.delegate = delegate;
    this.listener = listener;
  }

  @Override
  public Limit limit() {
    return delegate.limit();
  }

  @Override
  public boolean tryAcquire(long cost) {
    // decide is tryAcquire with the numbers, and the listener wants the wait of a refusal
    return decide(cost).isAllowed();
  }

  @Override
  public Reservation reserve(long cost) {
    return Observations.tell(listener, cost, delegate.reserve(cost));
  }

  @Override
  public Reservation reserve(long cost, Duration maxWait) {
    return Observations.tell(listener, cost, delegate.reserve(cost, maxWait));
  }

  @Override
  public Decision decide(long cost) {
    Decision d = delegate.decide(cost);
    Observations.tell(listener, cost, d);
    return d;
  }

  @Override
  public KeyedRateLimiter.Cancellation cancellation() {
    return delegate.cancellation();
  }

  @Override
  public long available() {
    return delegate.available();
  }

  @Override
  public Decision estimate(long cost) {
    return delegate.estimate(cost);
  }

  @Override
  public void changeLimit(Limit limit) {
    delegate.changeLimit(limit);
  }

  @Override
  public String toString() {
    return "Observed[" + delegate + "]";
  }
}
