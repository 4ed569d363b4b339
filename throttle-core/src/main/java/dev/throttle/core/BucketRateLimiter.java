package dev.throttle.core;

import dev.throttle.core.internal.Waits;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;

/**
 * {@link RateLimiter}: a {@link Generation}, one engine with its slot holding a {@link Cell} or a
 * {@link LockedBucket}. Changing the limit puts a new generation in place; the old one's slot then holds
 * {@link Engine#MOVED_STATE}, so a call that was under way on it asks again.
 */
final class BucketRateLimiter implements RateLimiter {

  private volatile Generation current;

  BucketRateLimiter(Engine engine) {
    this.current = new Generation(engine);
    current.state = engine.newState(current, null, 0);
  }

  /** One engine (one limit) and its slot. */
  static final class Generation implements Slots<Void> {
    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(Generation.class, "state", Object.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Engine engine;
    volatile Object state;

    Generation(Engine engine) {
      this.engine = engine;
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
  }

  @Override
  public Limit limit() {
    return current.engine.plan.limit;
  }

  @Override
  public boolean tryAcquire(long cost) {
    Generation g = current;
    g.engine.checkCost(cost);
    int result = g.engine.tryAcquire(g, null, cost);
    return result >= 0 ? result == Engine.GRANTED : tryAcquireAfterAChange(cost);
  }

  private boolean tryAcquireAfterAChange(long cost) {
    for (int spins = 0; ; spins++) {
      Engine.backOff(spins);
      Generation g = current;
      g.engine.checkCost(cost);
      int result = g.engine.tryAcquire(g, null, cost);
      if (result >= 0) {
        return result == Engine.GRANTED;
      }
    }
  }

  @Override
  public Reservation reserve(long cost) {
    return reserve(cost, Engine.MAX_WAIT_NANOS);
  }

  @Override
  public Reservation reserve(long cost, Duration maxWait) {
    return reserve(cost, Waits.maxWaitNanos(maxWait));
  }

  private Reservation reserve(long cost, long maxWaitNanos) {
    for (int spins = 0; ; spins++) {
      Generation g = current;
      g.engine.checkCost(cost);
      Reservation r = g.engine.reserve(g, null, cost, maxWaitNanos);
      if (r != null) {
        return r;
      }
      Engine.backOff(spins);
    }
  }

  @Override
  public Decision decide(long cost) {
    for (int spins = 0; ; spins++) {
      Generation g = current;
      g.engine.checkCost(cost);
      Decision d = g.engine.decide(g, null, cost);
      if (d != null) {
        return d;
      }
      Engine.backOff(spins);
    }
  }

  @Override
  public long available() {
    for (int spins = 0; ; spins++) {
      Generation g = current;
      long available = g.engine.available(g, null);
      if (available >= 0) {
        return available;
      }
      Engine.backOff(spins);
    }
  }

  @Override
  public Decision estimate(long cost) {
    for (int spins = 0; ; spins++) {
      Generation g = current;
      g.engine.checkCost(cost);
      Decision d = g.engine.estimate(g, null, cost);
      if (d != null) {
        return d;
      }
      Engine.backOff(spins);
    }
  }

  @Override
  public synchronized void changeLimit(Limit limit) {
    Objects.requireNonNull(limit, "limit");
    Generation old = current;
    if (limit.equals(old.engine.plan.limit)) {
      return;
    }
    Engine next = old.engine.withLimit(limit);
    Generation successor = new Generation(next);
    for (int spins = 0; ; spins++) {
      Object state = old.state;
      if (state instanceof Cell) {
        Cell cell = (Cell) state;
        long level = cell.seal();
        if (level == Cell.SEALED) {
          Engine.backOff(spins); // another thread is replacing it: wait for what it puts in its place
          continue;
        }
        Engine engine = old.engine;
        long t = engine.now();
        long e = engine.epochOf(cell.epoch, t);
        long[] levels = {level};
        if (e < 0) {
          e = engine.epochStart(t);
          levels[0] = -engine.plan.capacity[0];
        }
        t = Math.max(t, e);
        long e2 = next.epochStart(t);
        long[] carried = BucketMath.carry(engine.plan, levels, t, e, next.plan, e2);
        successor.state = next.plan.single ? new Cell(next.epochIndex(e2), carried[0])
            : new LockedBucket(next, successor, null, carried, e2, t);
      } else if (((LockedBucket) state).moveTo(next, successor, s -> successor.state = s) == null) {
        Engine.backOff(spins); // it became a cell a moment ago
        continue;
      }
      break;
    }
    current = successor;
    if (!old.replace(null, old.state, Engine.MOVED_STATE)) {
      throw new IllegalStateException("a sealed state lost its slot"); // only its sealer replaces it
    }
  }

  /** The current state, a {@link Cell} or a {@link LockedBucket} (for tests). */
  Object state() {
    return current.state;
  }

  @Override
  public String toString() {
    Generation g = current;
    return "RateLimiter[" + g.engine.plan.limit + ", " + g.state + "]";
  }
}
