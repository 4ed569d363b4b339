package dev.throttle.core;

/**
 * Runs a task after a delay. Waiting in Throttle never holds a thread per waiter and never polls: a limiter with
 * waiters keeps exactly one task scheduled here, for the moment its first waiter may proceed.
 *
 * <p>{@link #shared()} is one daemon thread for the whole JVM. Tests pass a {@link ManualClock}, which is also a
 * scheduler: its tasks run when the test advances the clock.
 *
 * <p>Tasks must be short and must not block: they complete futures and wake threads.
 */
@FunctionalInterface
public interface Scheduler {

  /**
   * Schedules {@code task} to run once, {@code delayNanos} after now (immediately when not positive).
   *
   * @return a handle whose {@link Cancellable#cancel()} keeps the task from running if it has not started
   */
  Cancellable schedule(Runnable task, long delayNanos);

  /** The JVM-wide scheduler: one daemon thread named {@code throttle-scheduler}, started on first use. */
  static Scheduler shared() {
    return SharedScheduler.INSTANCE;
  }

  /** A scheduled task that may still be cancelled. */
  @FunctionalInterface
  interface Cancellable {
    /** Keeps the task from running if it has not started yet; does nothing otherwise. */
    void cancel();
  }
}
