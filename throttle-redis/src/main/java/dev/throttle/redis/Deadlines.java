package dev.throttle.redis;

import dev.throttle.core.Scheduler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fails calls that Redis has not answered within one fixed timeout. Every call of a limiter has the same timeout,
 * so deadlines arrive in order: one queue, swept by one task at the earliest deadline (and at least every
 * millisecond while calls are pending, so that answered calls do not pile up under a long timeout), instead of a
 * scheduled task per call (whose cancellation wakes the timer thread once per call, which costs more than the call
 * under load). Thread-safe, lock-free.
 */
final class Deadlines {

  /** Shared and without a stack trace: a timeout is an expected outcome here, counted and logged by the limiter. */
  static final TimeoutException TIMEOUT = new RedisTimeoutException();

  private static final class RedisTimeoutException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    RedisTimeoutException() {
      super("Redis did not answer in time");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  private record Entry(long deadline, CompletableFuture<?> call) {}

  private static final long MAX_SWEEP_INTERVAL_NANOS = 1_000_000;

  private final long timeoutNanos;
  private final Scheduler scheduler;
  private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean sweepScheduled = new AtomicBoolean();

  Deadlines(long timeoutNanos, Scheduler scheduler) {
    this.timeoutNanos = timeoutNanos;
    this.scheduler = scheduler;
  }

  /** Fails {@code call} with {@link #TIMEOUT} unless it completes within the timeout from now. */
  void watch(CompletableFuture<?> call) {
    queue.add(new Entry(System.nanoTime() + timeoutNanos, call));
    if (sweepScheduled.compareAndSet(false, true)) {
      scheduler.schedule(this::sweep, Math.min(timeoutNanos, MAX_SWEEP_INTERVAL_NANOS));
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    Entry head;
    while ((head = queue.peek()) != null) {
      if (!head.call.isDone() && head.deadline - now > 0) {
        break;
      }
      queue.poll();
      head.call.completeExceptionally(TIMEOUT); // no effect on a call already answered
    }
    sweepScheduled.set(false);
    head = queue.peek();
    if (head != null && sweepScheduled.compareAndSet(false, true)) {
      scheduler.schedule(this::sweep, Math.max(0, Math.min(head.deadline - now, MAX_SWEEP_INTERVAL_NANOS)));
    }
  }
}
