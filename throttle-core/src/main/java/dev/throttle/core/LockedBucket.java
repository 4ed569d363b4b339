package dev.throttle.core;

import dev.throttle.core.internal.WaitingReservation;
import java.util.ArrayList;
import java.util.List;

/**
 * A bucket's state under a lock, with its queue of waiting reservations. Used for limits of several buckets
 * (always) and for a one-bucket limit while requests wait (a {@link Cell} is sealed and this takes its place; when
 * the queue empties, a new cell takes this one's place again, so the lock-free path comes back).
 *
 * <h2>Waiting</h2>
 *
 * Waiters queue in order of arrival. A waiter takes its tokens when it reaches the head of the queue and the
 * bucket holds them, at which moment it becomes ready; until then nothing is taken, so cancelling a waiter simply
 * unlinks it and the bucket is exactly as if it had never queued. While anyone waits, every other request is
 * refused or queued behind: nobody overtakes. Every grant is a {@link BucketMath} decision at the moment of the
 * grant, so the window bound holds for waiters exactly as for {@code tryAcquire}.
 *
 * <p>One task on the {@link Scheduler} is kept for the moment the head may proceed: no thread per waiter, no
 * polling, no refill thread. The queue also keeps a simulation of when its last waiter will be ready (levels and
 * time), so that the wait of a new reservation is known at once, without walking the queue.
 */
final class LockedBucket {

  private final Engine engine;
  private final Plan plan;
  private final Slots<Object> slots;
  private final Object key;

  private final long[] levels;
  private long epoch;
  private long latest;
  /** When the last tokens were granted (since creation): waiters are granted at their due times, never before it. */
  private long lastGrant;
  private boolean retired;

  private Entry head;
  private Entry tail;

  /** Levels and ready time of the last waiter, as simulated; recomputed after a cancellation. */
  private final long[] sim;
  private long simTime;
  private boolean simDirty = true;

  private Scheduler.Cancellable wakeup;
  private long wakeupAt;
  private long wakeupId;

  @SuppressWarnings("unchecked")
  LockedBucket(Engine engine, Slots<?> slots, Object key, long[] levels, long epoch, long now) {
    this.engine = engine;
    this.plan = engine.plan;
    this.slots = (Slots<Object>) slots;
    this.key = key;
    this.levels = levels;
    this.epoch = epoch;
    this.latest = now;
    this.lastGrant = now; // not before any decision made on the state this bucket takes over
    this.sim = new long[levels.length];
  }

  /** {@link Engine#GRANTED}, {@link Engine#REFUSED}, or {@link Engine#RELOAD} when this bucket was replaced. */
  int tryTake(long cost) {
    List<Entry> ready;
    int result;
    synchronized (this) {
      if (retired) {
        return Engine.RELOAD;
      }
      long t = advance(engine.now());
      ready = drain(t);
      result = head == null && takeAll(t, cost) ? Engine.GRANTED : Engine.REFUSED;
      if (result == Engine.GRANTED) {
        lastGrant = t;
      }
      retireIfIdle();
    }
    complete(ready);
    return result;
  }

  /** The decision for {@code cost} now, taking the tokens if allowed; null when this bucket was replaced. */
  Decision decide(long cost) {
    List<Entry> ready;
    Decision decision;
    synchronized (this) {
      if (retired) {
        return null;
      }
      long t = advance(engine.now());
      ready = drain(t);
      if (head == null) {
        decision = BucketMath.decide(plan, levels, t, epoch, cost);
        if (decision.isAllowed()) {
          lastGrant = t;
        }
      } else {
        updateSim(t);
        decision = BucketMath.queued(plan, sim, t, Math.max(simTime, t), epoch, cost);
      }
      retireIfIdle();
    }
    complete(ready);
    return decision;
  }

  /**
   * Reserves {@code cost}: ready at once, queued when the wait is at most {@code maxWaitNanos}, or not granted.
   * Null when this bucket was replaced.
   */
  Reservation reserve(long cost, long maxWaitNanos) {
    List<Entry> ready;
    Reservation result;
    synchronized (this) {
      if (retired) {
        return null;
      }
      long t = advance(engine.now());
      ready = drain(t);
      if (head == null && BucketMath.allows(plan, levels, t, epoch, cost)) {
        result = new Reservations.Immediate(BucketMath.decide(plan, levels, t, epoch, cost));
        lastGrant = t;
      } else {
        updateSim(t);
        long after = Math.max(simTime, t);
        long due = BucketMath.dueAfter(plan, sim, after, epoch, cost);
        if (due - t > maxWaitNanos) {
          // Not granted: what decide would answer (the buckets as they are when nobody waits).
          result = new Reservations.Refused(head == null ? BucketMath.decide(plan, levels, t, epoch, cost)
              : BucketMath.queued(plan, sim, t, after, epoch, cost));
        } else {
          Decision estimate = BucketMath.queued(plan, sim, t, after, epoch, cost);
          Entry entry = new Entry(this, cost, t, estimate.waitNanos(), estimate.resetNanos());
          append(entry);
          BucketMath.simulateGrant(plan, sim, due, epoch, cost);
          simTime = due;
          if (entry == head) {
            schedule(t, due);
          }
          result = entry;
        }
      }
      retireIfIdle();
    }
    complete(ready);
    return result;
  }

  /** Evicts this bucket if it is full and nobody waits; the caller removes it from its slot. */
  synchronized boolean retireIfFull(long t) {
    if (retired || head != null) {
      return false;
    }
    t = advance(t);
    if (!BucketMath.isFull(plan, levels, t, epoch)) {
      return false;
    }
    retired = true;
    return true;
  }

  /** Tokens a request could take now, for the eviction policy: the fewest over the buckets (0 while anyone waits). */
  synchronized long available(long t) {
    if (retired || head != null) {
      return 0;
    }
    return BucketMath.available(plan, levels, advance(t), epoch);
  }

  /**
   * What {@link #decide} would answer now, taking nothing; null when this bucket was replaced. Waiters whose time has come are granted first, as by
   * any call.
   */
  Decision estimate(long cost) {
    List<Entry> ready;
    Decision decision;
    synchronized (this) {
      if (retired) {
        return null;
      }
      long t = advance(engine.now());
      ready = drain(t);
      if (head == null) {
        decision = BucketMath.estimate(plan, levels, t, epoch, cost);
      } else {
        updateSim(t);
        decision = BucketMath.queued(plan, sim, t, Math.max(simTime, t), epoch, cost);
      }
      retireIfIdle();
    }
    complete(ready);
    return decision;
  }

  /** The tokens a request could take now without waiting (0 while anyone waits); -1 when this bucket was replaced. */
  long availableNow() {
    List<Entry> ready;
    long available;
    synchronized (this) {
      if (retired) {
        return -1;
      }
      long t = advance(engine.now());
      ready = drain(t);
      available = head == null ? BucketMath.available(plan, levels, t, epoch) : 0;
      retireIfIdle();
    }
    complete(ready);
    return available;
  }

  /** Retires this bucket unconditionally (eviction of a bucket that is not full); false if anyone waits. */
  synchronized boolean retireIfIdleForEviction() {
    if (retired || head != null) {
      return false;
    }
    retired = true;
    return true;
  }

  /** 1 if {@code entry} was waiting here and is now cancelled, 0 if it was not waiting, -1 if it moved to another bucket. */
  private int cancel(Entry entry) {
    List<Entry> ready;
    boolean cancelled = false;
    synchronized (this) {
      if (entry.bucket != this) {
        return -1; // moved by a change of limit: cancel it where it is now
      }
      if (entry.state != Entry.WAITING) {
        return 0;
      }
      long t = advance(engine.now());
      ready = drain(t); // a waiter whose time has come is ready, not cancelled
      if (entry.state == Entry.WAITING) {
        boolean wasHead = entry == head;
        unlink(entry);
        entry.state = Entry.CANCELLED;
        cancelled = true;
        simDirty = true;
        if (wasHead) {
          List<Entry> more = drain(t);
          if (more != null) {
            if (ready == null) {
              ready = more;
            } else {
              ready.addAll(more);
            }
          }
        }
      }
      retireIfIdle();
    }
    complete(ready);
    return cancelled ? 1 : 0;
  }

  /**
   * For a change of limit: retires this bucket and builds its successor on {@code next}, in {@code nextSlots},
   * holding the tokens this one holds now ({@link BucketMath#carry}) and the same waiters in the same order, each
   * moved to it (a concurrent cancel finds it there). Null if this bucket was already replaced (look again).
   *
   * @throws IllegalArgumentException if a waiter's cost exceeds the new limit's burst (nothing is changed)
   */
  LockedBucket moveTo(Engine next, Slots<?> nextSlots, java.util.function.Consumer<Object> publish) {
    List<Entry> ready;
    LockedBucket successor;
    synchronized (this) {
      if (retired) {
        return null;
      }
      long t = advance(engine.now());
      ready = drain(t);
      for (Entry e = head; e != null; e = e.next) {
        if (e.cost > next.plan.maxCost) {
          throw new IllegalArgumentException("cannot change the limit to '" + next.plan.limit + "': a reservation of "
              + e.cost + " tokens is waiting, more than its burst of " + next.plan.maxCost);
        }
      }
      long e2 = next.epochStart(t);
      successor = new LockedBucket(next, nextSlots, key, BucketMath.carry(plan, levels, t, epoch, next.plan, e2),
          e2, t);
      successor.lastGrant = t; // the new limit applies from now: nobody is granted under it as of an earlier time
      publish.accept(successor); // in its slot before any waiter can reach it
      retired = true;
      if (wakeup != null) {
        wakeup.cancel();
        wakeup = null;
      }
      synchronized (successor) {
        for (Entry e = head; e != null; ) {
          Entry following = e.next;
          e.prev = null;
          e.next = null;
          e.bucket = successor;
          successor.append(e);
          e = following;
        }
        head = null;
        tail = null;
      }
    }
    complete(ready);
    successor.onWakeup(successor.wakeupId); // grants the waiters already due under the new limit, schedules the rest
    return successor;
  }

  private void onWakeup(long id) {
    List<Entry> ready;
    synchronized (this) {
      if (id == wakeupId) {
        wakeup = null;
      }
      if (retired) {
        return;
      }
      long t = advance(engine.now());
      ready = drain(t);
      retireIfIdle();
    }
    complete(ready);
  }

  /**
   * Keeps this bucket's time from going backwards (threads read the clock a moment before they get the lock, and
   * not in the order they get it), and moves the epoch forward when a quantum has passed.
   */
  private long advance(long t) {
    if (t < latest) {
      return latest;
    }
    latest = t;
    if (t < epoch) {
      latest = epoch;
      return epoch; // a clock read by another thread a moment before this bucket's epoch was set
    }
    if (t - epoch >= plan.quantum()) {
      long e2 = engine.epochStart(t);
      BucketMath.shift(plan, levels, epoch, e2);
      epoch = e2;
      simDirty = true;
    }
    return t;
  }

  /**
   * Grants, in order, every waiter whose time has come by {@code t}, each <em>at its due time</em>: the bucket
   * decides for it as of the moment it could first pass (never before the previous grant, nor before it was
   * made), not as of the moment this thread got to run. So a wake-up that comes late loses no refill (with a burst of 1 at 10,000/s, every
   * microsecond of scheduler delay would otherwise be a token lost), and the bound holds on the times at which the
   * bucket grants, as for any caller of tryAcquire, whose thread may also run a moment after its grant.
   * Schedules the wake-up for the next waiter.
   */
  private List<Entry> drain(long t) {
    List<Entry> ready = null;
    while (head != null) {
      long due = BucketMath.dueAfter(plan, levels, Math.max(lastGrant, head.madeAt), epoch, head.cost);
      if (due > t) {
        schedule(t, due);
        return ready;
      }
      for (int j = 0; j < plan.n; j++) {
        levels[j] = BucketMath.take(plan, j, levels[j], due, epoch, head.cost); // passes at due, by construction
      }
      lastGrant = due;
      Entry e = head;
      unlink(e);
      e.state = Entry.READY;
      if (ready == null) {
        ready = new ArrayList<>();
      }
      ready.add(e);
    }
    if (wakeup != null) {
      wakeup.cancel();
      wakeup = null;
    }
    return ready;
  }

  private boolean takeAll(long t, long cost) {
    if (!BucketMath.allows(plan, levels, t, epoch, cost)) {
      return false;
    }
    for (int j = 0; j < plan.n; j++) {
      levels[j] = BucketMath.take(plan, j, levels[j], t, epoch, cost);
    }
    return true;
  }

  private void schedule(long t, long due) {
    if (wakeup != null) {
      if (wakeupAt == due) {
        return;
      }
      wakeup.cancel();
    }
    long id = ++wakeupId;
    wakeupAt = due;
    wakeup = engine.scheduler.schedule(() -> onWakeup(id), due - t);
  }

  private void updateSim(long t) {
    if (head == null) {
      System.arraycopy(levels, 0, sim, 0, levels.length);
      simTime = t;
      simDirty = false;
    } else if (simDirty) {
      System.arraycopy(levels, 0, sim, 0, levels.length);
      long time = t;
      for (Entry e = head; e != null; e = e.next) {
        time = BucketMath.dueAfter(plan, sim, time, epoch, e.cost);
        BucketMath.simulateGrant(plan, sim, time, epoch, e.cost);
      }
      simTime = time;
      simDirty = false;
    }
  }

  /** A one-bucket limit goes back to its lock-free cell once nobody waits. */
  private void retireIfIdle() {
    if (head == null && plan.single && !retired) {
      retired = true;
      if (wakeup != null) {
        wakeup.cancel();
        wakeup = null;
      }
      Cell cell = new Cell(engine.epochIndex(epoch), levels[0]);
      if (!slots.replace(key, this, cell)) {
        throw new IllegalStateException("a locked bucket lost its slot"); // only its owner replaces it
      }
    }
  }

  private void append(Entry e) {
    e.prev = tail;
    if (tail == null) {
      head = e;
    } else {
      tail.next = e;
    }
    tail = e;
  }

  private void unlink(Entry e) {
    if (e.prev == null) {
      head = e.next;
    } else {
      e.prev.next = e.next;
    }
    if (e.next == null) {
      tail = e.prev;
    } else {
      e.next.prev = e.prev;
    }
    e.prev = null;
    e.next = null;
  }

  /** Wakes the waiters made ready, outside the lock: their futures may run user code. */
  private static void complete(List<Entry> ready) {
    if (ready != null) {
      for (Entry e : ready) {
        e.wake();
      }
    }
  }

  @Override
  public synchronized String toString() {
    return "LockedBucket[epoch " + epoch + ", levels " + java.util.Arrays.toString(levels) + ", waiting "
        + (head != null) + (retired ? ", retired" : "") + "]";
  }

  /** A waiting reservation in this queue; its {@link #giveUp()} frees its place. */
  static final class Entry extends WaitingReservation {
    static final int WAITING = 0;
    static final int READY = 1;
    static final int CANCELLED = 2;

    /** Makes it ready (for the bucket, outside the subclass: makeReady is protected in another package). */
    void wake() {
      makeReady();
    }

    /** Where it waits: another bucket after a change of limit (written under both buckets' locks). */
    volatile LockedBucket bucket;
    final long cost;
    /** When it was made (since creation): it is never granted before, even when a cancellation moves it up. */
    final long madeAt;

    Entry prev; // guarded by bucket
    Entry next; // guarded by bucket
    volatile int state; // written under the bucket's lock

    Entry(LockedBucket bucket, long cost, long madeAt, long delayNanos, long resetNanos) {
      super(delayNanos, resetNanos);
      this.bucket = bucket;
      this.cost = cost;
      this.madeAt = madeAt;
    }

    @Override
    public boolean isReady() {
      return state == READY;
    }

    @Override
    protected boolean giveUp() {
      while (true) {
        int cancelled = bucket.cancel(this);
        if (cancelled == 1) {
          settleRefund(true); // the queue is one object here: the bucket is as if this had never queued
          return true;
        }
        if (cancelled == 0) {
          return false;
        }
      }
    }

    @Override
    public String toString() {
      int s = state;
      return "Reservation[" + (s == WAITING ? "waiting" : s == READY ? "ready" : "cancelled") + ", cost " + cost
          + ", delay " + delayNanos() + " ns]";
    }
  }
}
