package dev.throttle.redis;

import dev.throttle.core.Decision;
import dev.throttle.core.Scheduler;
import dev.throttle.core.internal.WaitingReservation;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A reservation that Redis granted with a wait: its tokens are already counted there (the key's state is written
 * as of its due time), so here it only waits, with one task on the scheduler. It is its own future, as in the core.
 *
 * <p>Cancelling it before it is ready gives its tokens back in Redis if no later reservation was made on the key
 * (the script checks that the key still holds what this reservation wrote); otherwise they stay spent
 * ({@link dev.throttle.core.KeyedRateLimiter.Cancellation#IF_LAST}). {@link #refunded()} completes with which, when
 * Redis has answered (false if it could not be asked or did not answer).
 */
final class RedisReservation extends WaitingReservation {

  private static final int WAITING = 0;
  private static final int READY = 1;
  private static final int CANCELLED = 2;

  private final AtomicInteger state = new AtomicInteger(WAITING);
  private final Decision decision;
  private final Supplier<CompletableFuture<Boolean>> giveBack;
  private volatile Scheduler.Cancellable wakeup;

  RedisReservation(Decision decision, Supplier<CompletableFuture<Boolean>> giveBack) {
    super(decision.waitNanos(), decision.resetNanos());
    // The script answers a reservation that waits as a refusal with its wait; it is granted.
    this.decision = Decision.allowedAfter(decision.remaining(), decision.waitNanos(), decision.resetNanos());
    this.giveBack = giveBack;
  }

  /** Schedules the moment it becomes ready; called once, before it is handed out. */
  RedisReservation start(Scheduler scheduler) {
    wakeup = scheduler.schedule(this::ready, decision.waitNanos());
    return this;
  }

  private void ready() {
    if (state.compareAndSet(WAITING, READY)) {
      makeReady();
    }
  }

  @Override
  public Decision decision() {
    return decision;
  }

  @Override
  public boolean isReady() {
    return state.get() == READY;
  }

  @Override
  protected boolean giveUp() {
    if (!state.compareAndSet(WAITING, CANCELLED)) {
      return false;
    }
    Scheduler.Cancellable w = wakeup;
    if (w != null) {
      w.cancel();
    }
    giveBack.get().whenComplete((refunded, e) -> settleRefund(e == null && refunded));
    return true;
  }

  @Override
  public String toString() {
    int s = state.get();
    return "RedisReservation[" + (s == WAITING ? "waiting" : s == READY ? "ready" : "cancelled") + ", delay "
        + decision.waitNanos() + " ns]";
  }
}
