package dev.throttle.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A clock that moves only when told to, and a {@link Scheduler} whose tasks run as the clock passes their time.
 * For tests and simulations: give the same instance to a limiter as its clock and its scheduler, then
 * {@link #advance(Duration)} and assert what happened.
 *
 * <p>Thread-safe. Tasks run in the thread that advances the clock, in order of their due time (ties in the order
 * they were scheduled), each with the clock set to its due time.
 *
 * <p>Its readings are Unix time ({@link #unixNanosAt}) unless it is made with another Unix time at its start, as
 * tests that start near the end of the {@code long} range do. Public on purpose: users' tests need it too.
 */
public final class ManualClock implements Clock, Scheduler {

  private final PriorityQueue<Task> tasks = new PriorityQueue<>();
  private final long unixOffset;
  private long now;
  private long sequence;

  /** A clock at time zero. */
  public ManualClock() {
    this(0);
  }

  /**
   * A clock at {@code startNanos}, which is also its Unix time; any value is valid, including ones near the ends of
   * the {@code long} range.
   */
  public ManualClock(long startNanos) {
    this(startNanos, startNanos);
  }

  /**
   * A clock at {@code startNanos} whose Unix time is then {@code unixNanosAtStart} (nanoseconds since
   * 1970-01-01T00:00:00Z): where interval refill puts its boundaries.
   */
  public ManualClock(long startNanos, long unixNanosAtStart) {
    this.now = startNanos;
    this.unixOffset = unixNanosAtStart - startNanos;
  }

  @Override
  public long unixNanosAt(long nanoTime) {
    return nanoTime + unixOffset;
  }

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  /** Moves the clock forward, running every task that falls due on the way. */
  public void advance(Duration duration) {
    advanceNanos(duration.toNanos());
  }

  /** Moves the clock forward by {@code nanos} (not negative), running every task that falls due on the way. */
  public void advanceNanos(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("a clock cannot go backwards: advance by " + nanos + " ns");
    }
    long target;
    synchronized (this) {
      target = now + nanos;
    }
    while (true) {
      Task next;
      synchronized (this) {
        Task head = tasks.peek();
        if (head == null || head.due - target > 0) {
          now = target;
          return;
        }
        next = tasks.poll();
        if (next.due - now > 0) {
          now = next.due;
        }
      }
      next.task.run(); // outside the lock: a task may schedule more tasks or read the clock
    }
  }

  /** Runs the tasks already due, without moving the clock. */
  public void runDueTasks() {
    advanceNanos(0);
  }

  /** The number of tasks scheduled and not yet run or cancelled. */
  public synchronized int pendingTasks() {
    return tasks.size();
  }

  /** The due times of the scheduled tasks, earliest first (for assertions). */
  public synchronized List<Long> pendingDueTimes() {
    List<Task> sorted = new ArrayList<>(tasks);
    sorted.sort(null);
    List<Long> result = new ArrayList<>(sorted.size());
    for (Task t : sorted) {
      result.add(t.due);
    }
    return result;
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, long delayNanos) {
    Task t = new Task(now + Math.max(0, delayNanos), sequence++, task);
    tasks.add(t);
    return () -> {
      synchronized (ManualClock.this) {
        tasks.remove(t);
      }
    };
  }

  @Override
  public synchronized String toString() {
    return "ManualClock[" + now + " ns, " + tasks.size() + " tasks]";
  }

  private static final class Task implements Comparable<Task> {
    final long due;
    final long seq;
    final Runnable task;

    Task(long due, long seq, Runnable task) {
      this.due = due;
      this.seq = seq;
      this.task = task;
    }

    @Override
    public int compareTo(Task o) {
      long d = due - o.due; // wrap-safe, like System.nanoTime() differences
      if (d != 0) {
        return d < 0 ? -1 : 1;
      }
      return Long.compare(seq, o.seq);
    }
  }
}
