package dev.throttle.core;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** {@link Scheduler#shared()}: a single daemon thread, created when first needed. */
final class SharedScheduler implements Scheduler {

  static final SharedScheduler INSTANCE = new SharedScheduler();

  private SharedScheduler() {}

  /** Holder idiom: the thread is created on the first scheduled task, not when the class loads. */
  private static final class Executor {
    static final ScheduledThreadPoolExecutor EXECUTOR = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
        Thread thread = new Thread(runnable, "throttle-scheduler");
        thread.setDaemon(true);
        return thread;
      });
      // Cancelled wake-ups are removed at once, so a limiter that reschedules often leaves nothing behind.
      executor.setRemoveOnCancelPolicy(true);
      return executor;
    }
  }

  @Override
  public Cancellable schedule(Runnable task, long delayNanos) {
    ScheduledFuture<?> future = Executor.EXECUTOR.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    return () -> future.cancel(/* mayInterruptIfRunning= */ false);
  }

  @Override
  public String toString() {
    return "Scheduler.shared()";
  }
}
