package dev.throttle.core;

/**
 * The operations of a limiter on one bucket's state, shared by {@link RateLimiter} (one slot) and
 * {@link KeyedRateLimiter} (a slot per key). The state is a {@link Cell} (one bucket, nobody waiting: lock-free)
 * or a {@link LockedBucket} (several buckets, or waiters); this class moves a bucket between the two and between
 * epochs, always by sealing the old object first, so that no update is lost.
 */
final class Engine {

  static final int GRANTED = 1;
  static final int REFUSED = 0;
  static final int RELOAD = -1;
  static final int REBASE = -2;
  /** The slot now belongs to another engine (the limit was changed): ask the limiter again. */
  static final int MOVED = -3;

  /**
   * What a slot holds once its limiter moved to another engine ({@link RateLimiter#changeLimit}); the engine's
   * operations then answer {@link #MOVED}, or null, and the limiter asks its new engine.
   */
  static final Object MOVED_STATE = new Object() {
    @Override
    public String toString() {
      return "moved to a new limit";
    }
  };

  /**
   * The longest wait a reservation may be given (about 73 years); saturated estimates lie beyond it. The one
   * definition is {@link dev.throttle.core.internal.Waits#MAX_WAIT_NANOS}: a longer {@code maxWait} is this, which
   * is how other modules ask for "no limit".
   */
  static final long MAX_WAIT_NANOS = dev.throttle.core.internal.Waits.MAX_WAIT_NANOS;

  final Plan plan;
  final Clock clock;
  final Scheduler scheduler;
  private final long origin;
  private final int shift;

  // Bucket 0 of the plan, read by the lock-free path (one-bucket plans only) without the plan's array loads and
  // bounds checks: a few nanoseconds of a call that takes about thirty.
  private final long rate0;
  private final long unit0;
  private final long capacity0;
  private final boolean greedy0;
  private final long maxCost;
  private final long quantumMask;

  /** An engine for {@code limit}, whose interval boundaries are placed by the clock's Unix time at creation. */
  Engine(Limit limit, Clock clock, Scheduler scheduler) {
    this(limit, clock, scheduler, clock.nanoTime());
  }

  /** An engine for another limit on the same clock, scheduler and origin: times carry over unchanged. */
  Engine withLimit(Limit limit) {
    return new Engine(limit, clock, scheduler, origin);
  }

  private Engine(Limit limit, Clock clock, Scheduler scheduler, long origin) {
    this.plan = new Plan(limit, clock.unixNanosAt(origin));
    this.clock = clock;
    this.scheduler = scheduler;
    this.origin = origin;
    this.shift = plan.quantumShift;
    this.rate0 = plan.rate[0];
    this.unit0 = plan.unit[0];
    this.capacity0 = plan.capacity[0];
    this.greedy0 = plan.interval[0] == 0;
    this.maxCost = plan.maxCost;
    this.quantumMask = plan.quantum() - 1;
  }

  /** Nanoseconds since this limiter was created (never negative). */
  long now() {
    long t = clock.nanoTime() - origin;
    return t < 0 ? 0 : t;
  }

  /** The start of the quantum that {@code t} falls in: the epoch a bucket moves to at {@code t}. */
  long epochStart(long t) {
    return (t >>> shift) << shift;
  }

  /** The epoch index a {@link Cell} stores for epoch {@code e} (the low 32 bits suffice: see {@link #epochOf}). */
  int epochIndex(long e) {
    return (int) (e >>> shift);
  }

  /**
   * The epoch of a cell whose stored index is {@code index}, as seen at time {@code t}: -1 when the cell is so old
   * (more than 7 quanta) that it is certainly full. Cells are used only in their own quantum and refill completely
   * within 2 quanta, so the index is only ever compared with the current one over a short distance, and 32 bits
   * are enough even though they wrap.
   */
  long epochOf(int index, long t) {
    long current = t >>> shift;
    int age = (int) current - index;
    if (age > 7) {
      return -1;
    }
    return (current - age) << shift;
  }

  /** A new state for a key first seen at {@code t}: full. */
  Object newState(Slots<?> slots, Object key, long t) {
    long e = epochStart(t);
    long[] levels = BucketMath.full(plan);
    if (plan.single) {
      return new Cell(epochIndex(e), levels[0]);
    }
    return new LockedBucket(this, slots, key, levels, e, t);
  }

  void checkCost(long cost) {
    if (cost < 1 || cost > maxCost) {
      plan.limit.checkCost(cost);
    }
  }

  /*
   * Every decision reads the clock after reading the state it builds on (for a cell, after its level; for a locked
   * bucket, inside its lock). The thread that wrote that state read its clock before writing it, so with a clock
   * that is monotonic across threads (System.nanoTime is) a decision's time is never older than the decision it
   * follows: no thread ever sees a bucket emptier than it is because its clock reading went stale while it waited.
   * Slots.get reads the clock only to create a missing key's state (full from its epoch on) and to sweep.
   */

  /** {@link #GRANTED}, {@link #REFUSED}, or {@link #MOVED} (ask the limiter's new engine). */
  <K> int tryAcquire(Slots<K> slots, K key, long cost) {
    for (int spins = 0; ; spins++) {
      Object state = slots.get(key);
      int result;
      if (state instanceof Cell) {
        result = tryTake((Cell) state, cost);
        if (result == REBASE) {
          rebase(slots, key, (Cell) state);
          continue;
        }
      } else if (state == MOVED_STATE) {
        return MOVED;
      } else {
        result = ((LockedBucket) state).tryTake(cost);
      }
      if (result >= 0) {
        return result;
      }
      backOff(spins);
    }
  }

  /** The lock-free path: one compare-and-set on the cell's level. */
  private int tryTake(Cell cell, long cost) {
    long credits = cost * unit0;
    while (true) {
      long level = cell.level;
      if (level == Cell.SEALED) {
        return RELOAD;
      }
      long t = now();
      long current = t >>> shift;
      int age = (int) current - cell.epoch;
      if (age > 0) {
        return REBASE;
      }
      // t - e, the time since the cell's epoch: for a cell of this quantum (age 0) the low bits of t, which keeps the
      // arithmetic between the clock read and the compare-and-set short.
      long elapsed = t & quantumMask;
      if (age < 0) {
        t = (current - age) << shift; // a clock that is not monotonic across threads: act at the cell's epoch
        elapsed = 0;
      }
      long z; // BucketMath.produced, inlined; most round rates are 1 credit a nanosecond (100/s, 10^9/s)
      if (greedy0) {
        z = rate0 == 1 ? elapsed : elapsed * rate0;
      } else {
        z = BucketMath.produced(plan, 0, t, t - elapsed);
      }
      long next = BucketMath.take(level, z, capacity0, credits);
      if (next == Long.MIN_VALUE) {
        return REFUSED;
      }
      if (cell.compareAndSet(level, next)) {
        return GRANTED;
      }
    }
  }

  /** The decision, or null when the slot {@link #MOVED}. */
  <K> Decision decide(Slots<K> slots, K key, long cost) {
    for (int spins = 0; ; spins++) {
      Object state = slots.get(key);
      Decision decision;
      if (state instanceof Cell) {
        Cell cell = (Cell) state;
        decision = decide(cell, cost);
        if (decision == REBASE_NEEDED) {
          rebase(slots, key, cell);
          continue;
        }
      } else if (state == MOVED_STATE) {
        return null;
      } else {
        decision = ((LockedBucket) state).decide(cost);
      }
      if (decision != null) {
        return decision;
      }
      backOff(spins);
    }
  }

  /** A marker: the cell is from an older quantum and must move to the current epoch first. */
  private static final Decision REBASE_NEEDED = Decision.allowed(0, 0);

  /**
   * The {@link BucketMath} decision on a cell, committed by compare-and-set; null if the cell was sealed,
   * {@link #REBASE_NEEDED} if it must move to the current epoch first.
   */
  private Decision decide(Cell cell, long cost) {
    long[] levels = new long[1];
    while (true) {
      long level = cell.level;
      if (level == Cell.SEALED) {
        return null;
      }
      long t = now();
      long e = epochOf(cell.epoch, t);
      if (e < 0 || e < epochStart(t)) {
        return REBASE_NEEDED;
      }
      levels[0] = level;
      Decision decision = BucketMath.decide(plan, levels, Math.max(t, e), e, cost);
      if (!decision.isAllowed() || cell.compareAndSet(level, levels[0])) {
        return decision;
      }
    }
  }

  /**
   * What {@link #decide} would answer now for {@code key}, taking nothing and creating no state (a key not held is
   * a full bucket); null when the slot {@link #MOVED}.
   */
  <K> Decision estimate(Slots<K> slots, K key, long cost) {
    for (int spins = 0; ; spins++) {
      Object state = slots.peek(key);
      if (state == MOVED_STATE) {
        return null;
      }
      if (state instanceof LockedBucket) {
        Decision d = ((LockedBucket) state).estimate(cost);
        if (d != null) {
          return d;
        }
      } else {
        long[] levels = new long[plan.n];
        long t = now();
        long e = readCell((Cell) state, t, levels);
        if (e != Long.MIN_VALUE) {
          return BucketMath.estimate(plan, levels, Math.max(t, e), e, cost);
        }
      }
      backOff(spins);
    }
  }

  /**
   * The tokens a request of {@code key} could take now without waiting (0 while anyone waits); takes nothing; -1
   * when the slot {@link #MOVED}.
   */
  <K> long available(Slots<K> slots, K key) {
    for (int spins = 0; ; spins++) {
      Object state = slots.peek(key);
      if (state == MOVED_STATE) {
        return -1;
      }
      if (state instanceof LockedBucket) {
        long available = ((LockedBucket) state).availableNow();
        if (available >= 0) {
          return available;
        }
      } else {
        long[] levels = new long[plan.n];
        long t = now();
        long e = readCell((Cell) state, t, levels);
        if (e != Long.MIN_VALUE) {
          return BucketMath.available(plan, levels, Math.max(t, e), e);
        }
      }
      backOff(spins);
    }
  }

  /**
   * Reads a cell's level (or a full bucket's, for null: a key not held) into {@code levels} and returns its epoch as
   * seen at {@code t}, without moving it to a newer one (the math stays exact for 8 quanta); Long.MIN_VALUE if
   * the cell was sealed (look again).
   */
  private long readCell(Cell cell, long t, long[] levels) {
    if (cell != null) {
      long level = cell.level;
      if (level == Cell.SEALED) {
        return Long.MIN_VALUE;
      }
      long e = epochOf(cell.epoch, t);
      if (e >= 0) {
        levels[0] = level;
        return e;
      }
    }
    long[] full = BucketMath.full(plan); // not held, or so old that it is full
    System.arraycopy(full, 0, levels, 0, full.length);
    return epochStart(t);
  }

  /** The reservation, or null when the slot {@link #MOVED}. */
  <K> Reservation reserve(Slots<K> slots, K key, long cost, long maxWaitNanos) {
    for (int spins = 0; ; spins++) {
      Object state = slots.get(key);
      if (state == MOVED_STATE) {
        return null;
      }
      if (state instanceof Cell) {
        Cell cell = (Cell) state;
        Decision decision = decide(cell, cost);
        if (decision == REBASE_NEEDED) {
          rebase(slots, key, cell);
          continue;
        }
        if (decision == null) {
          backOff(spins);
          continue;
        }
        if (decision.isAllowed()) {
          return new Reservations.Immediate(decision);
        }
        if (decision.waitNanos() > maxWaitNanos) {
          return new Reservations.Refused(decision);
        }
        state = lock(slots, key, cell);
        if (state == null) {
          backOff(spins);
          continue;
        }
      }
      Reservation reservation = ((LockedBucket) state).reserve(cost, maxWaitNanos);
      if (reservation != null) {
        return reservation;
      }
      backOff(spins);
    }
  }

  /** Replaces a cell by a cell of the current epoch; if another thread sealed it first, does nothing. */
  private <K> void rebase(Slots<K> slots, K key, Cell cell) {
    long level = cell.seal();
    if (level == Cell.SEALED) {
      return;
    }
    long t = now();
    long e = epochOf(cell.epoch, t);
    long e2 = epochStart(t);
    long[] levels = {level};
    if (e < 0) {
      levels[0] = -plan.capacity[0];
    } else if (e2 > e) {
      BucketMath.shift(plan, levels, e, e2);
    } else {
      e2 = e; // the cell is from a quantum this thread's clock reading has not reached yet
    }
    publish(slots, key, cell, new Cell(epochIndex(e2), levels[0]));
  }

  /** Replaces a cell by a locked bucket, to queue waiters; null if another thread sealed it first. */
  private <K> LockedBucket lock(Slots<K> slots, K key, Cell cell) {
    long level = cell.seal();
    if (level == Cell.SEALED) {
      return null;
    }
    long t = now();
    long e = epochOf(cell.epoch, t);
    long[] levels = {level};
    if (e < 0) {
      e = epochStart(t);
      levels[0] = -plan.capacity[0];
    }
    LockedBucket bucket = new LockedBucket(this, slots, key, levels, e, t);
    publish(slots, key, cell, bucket);
    return bucket;
  }

  private static <K> void publish(Slots<K> slots, K key, Cell sealed, Object replacement) {
    if (!slots.replace(key, sealed, replacement)) {
      throw new IllegalStateException("a sealed cell lost its slot"); // only the thread that sealed it replaces it
    }
  }

  /** Waits for another thread to finish replacing a sealed state: a few instructions, so spin, then yield. */
  static void backOff(int spins) {
    if (spins < 64) {
      Thread.onSpinWait();
    } else {
      Thread.yield();
    }
  }
}
