package dev.throttle.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/** {@link RateLimiter}: one slot holding a {@link Cell} or a {@link LockedBucket}. */
final class BucketRateLimiter implements RateLimiter, Slots<Void> {

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(BucketRateLimiter.class, "state", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Engine engine;
  private volatile Object state;

  BucketRateLimiter(Engine engine) {
    this.engine = engine;
    this.state = engine.newState(this, null, 0);
  }

  @Override
  public Limit limit() {
    return engine.plan.limit;
  }

  @Override
  public boolean tryAcquire(long cost) {
    engine.checkCost(cost);
    return engine.tryAcquire(this, null, cost);
  }

  @Override
  public Reservation reserve(long cost) {
    engine.checkCost(cost);
    return engine.reserve(this, null, cost, Engine.MAX_WAIT_NANOS);
  }

  @Override
  public Reservation reserve(long cost, Duration maxWait) {
    engine.checkCost(cost);
    return engine.reserve(this, null, cost, RateLimiter.maxWaitNanos(maxWait));
  }

  @Override
  public Decision decide(long cost) {
    engine.checkCost(cost);
    return engine.decide(this, null, cost);
  }

  @Override
  public long available() {
    return engine.available(this, null);
  }

  @Override
  public Decision estimate(long cost) {
    engine.checkCost(cost);
    return engine.estimate(this, null, cost);
  }

  @Override
  public Object get(Void key) {
    return state;
  }

  @Override
  public Object peek(Void key) {
    return state;
  }

  @Override
  public boolean replace(Void key, Object expected, Object update) {
    return STATE.compareAndSet(this, expected, update);
  }

  @Override
  public String toString() {
    return "RateLimiter[" + engine.plan.limit + ", " + state + "]";
  }
}
