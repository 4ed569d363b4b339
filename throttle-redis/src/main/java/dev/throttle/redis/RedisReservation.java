package dev.throttle.redis;

import dev.throttle.core.Decision;
import dev.throttle.core.Reservation;
import dev.throttle.core.Scheduler;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reservation that Redis granted with a wait: its tokens are already counted there (the key's state is written
 * as of its due time), so here it only waits, with one task on the scheduler. It is its own future, as in the core.
 *
 * <p>Cancelling it before it is ready gives its tokens back in Redis if no later reservation was made on the key
 * (the script checks that the key still holds what this reservation wrote); otherwise they stay spent.
 */
final class RedisReservation extends CompletableFuture<Void> implements Reservation {

  private static final int WAITING = 0;
  private static final int READY = 1;
  private static final int CANCELLED = 2;

  private final AtomicInteger state = new AtomicInteger(WAITING);
  private final Decision decision;
  private final Runnable giveBack;
  private volatile Scheduler.Cancellable wakeup;

  RedisReservation(Decision decision, Runnable giveBack) {
    this.decision = decision;
    this.giveBack = giveBack;
  }

  /** Schedules the moment it becomes ready; called once, before it is handed out. */
  RedisReservation start(Scheduler scheduler) {
    wakeup = scheduler.schedule(this::ready, decision.waitNanos());
    return this;
  }

  private void ready() {
    if (state.compareAndSet(WAITING, READY)) {
      super.complete(null);
    }
  }

  @Override
  public boolean isGranted() {
    return true;
  }

  @Override
  public Decision decision() {
    return decision;
  }

  @Override
  public Duration delay() {
    return decision.waitTime();
  }

  @Override
  public long delayNanos() {
    return decision.waitNanos();
  }

  @Override
  public boolean isReady() {
    return state.get() == READY;
  }

  @Override
  public CompletableFuture<Void> whenReady() {
    return this;
  }

  @Override
  public void await() throws InterruptedException {
    try {
      get();
    } catch (InterruptedException e) {
      if (cancel()) {
        throw new InterruptedException("interrupted while waiting for tokens; the reservation was cancelled");
      }
      Thread.currentThread().interrupt(); // ready at the same moment: proceed, keeping the interrupt
      if (state.get() == CANCELLED) {
        throw new CancellationException("the reservation was cancelled");
      }
    } catch (CancellationException e) {
      throw new CancellationException("the reservation was cancelled");
    } catch (ExecutionException e) {
      throw new CancellationException("the reservation was given up: " + e.getCause());
    }
  }

  @Override
  public boolean cancel() {
    if (!giveUp()) {
      return false;
    }
    super.cancel(false);
    return true;
  }

  /** Cancelling the future cancels the reservation; a future whose reservation is ready completes normally. */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    return cancel();
  }

  /** Failing the future (as {@link CompletableFuture#orTimeout} does) gives up the reservation too. */
  @Override
  public boolean completeExceptionally(Throwable ex) {
    return giveUp() && super.completeExceptionally(ex);
  }

  /** Only the scheduler makes a reservation ready. */
  @Override
  public boolean complete(Void value) {
    return false;
  }

  private boolean giveUp() {
    if (!state.compareAndSet(WAITING, CANCELLED)) {
      return false;
    }
    Scheduler.Cancellable w = wakeup;
    if (w != null) {
      w.cancel();
    }
    giveBack.run();
    return true;
  }

  @Override
  public String toString() {
    int s = state.get();
    return "RedisReservation[" + (s == WAITING ? "waiting" : s == READY ? "ready" : "cancelled") + ", delay "
        + decision.waitNanos() + " ns]";
  }
}
