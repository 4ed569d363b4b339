package dev.throttle.core.internal;

import dev.throttle.core.Decision;
import dev.throttle.core.Reservation;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Not API (shared with Throttle's own stores). A granted {@link Reservation} that must wait: it is its own future, completed by its limiter when the request may
 * proceed. One object per waiter, in this process's queue or for a wait counted in Redis.
 *
 * <p>The semantics every store shares live here: cancelling the future, failing it (as
 * {@link CompletableFuture#orTimeout} does) or interrupting {@link #await()} gives the place up through
 * {@link #giveUp()}; once the reservation is ready none of them does anything, and the future completes normally.
 * Only the limiter completes it ({@link #makeReady()}); {@link #complete} from outside is ignored.
 */
public abstract class WaitingReservation extends CompletableFuture<Void> implements Reservation {

  private static final VarHandle REFUND;

  static {
    try {
      REFUND = MethodHandles.lookup().findVarHandle(WaitingReservation.class, "refund", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final long delayNanos;
  private final long resetNanos;
  /** null: not settled, nobody asked; a Boolean: settled; a future: asked for before it was settled. */
  private volatile Object refund;

  /** A reservation estimated to be ready after {@code delayNanos}, with the bucket full {@code resetNanos} after. */
  protected WaitingReservation(long delayNanos, long resetNanos) {
    this.delayNanos = delayNanos;
    this.resetNanos = resetNanos;
  }

  /**
   * Gives up the place if the reservation is still waiting, returning its tokens as the store can, and settles
   * {@link #settleRefund} (now or when the store answers).
   *
   * @return true if it was waiting and is now cancelled; false if it is ready or already cancelled
   */
  protected abstract boolean giveUp();

  /** Completes the future: the request may proceed. For the limiter that owns the reservation. */
  protected final void makeReady() {
    settleRefund(false);
    super.complete(null);
  }

  /**
   * Settles {@link #refunded()}: after a successful {@link #giveUp()}, whether the store gave the tokens back (at
   * once in process, when the store answers otherwise). Only the first call counts.
   */
  @SuppressWarnings("unchecked")
  protected final void settleRefund(boolean refunded) {
    while (true) {
      Object r = refund;
      if (r instanceof Boolean) {
        return;
      }
      if (REFUND.compareAndSet(this, r, Boolean.valueOf(refunded))) {
        if (r != null) {
          ((CompletableFuture<Boolean>) r).complete(refunded);
        }
        return;
      }
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public CompletableFuture<Boolean> refunded() {
    while (true) {
      Object r = refund;
      if (r instanceof Boolean b) {
        return CompletableFuture.completedFuture(b);
      }
      if (r != null) {
        return ((CompletableFuture<Boolean>) r).copy();
      }
      CompletableFuture<Boolean> f = new CompletableFuture<>();
      if (REFUND.compareAndSet(this, null, f)) {
        return f.copy();
      }
    }
  }

  @Override
  public boolean isGranted() {
    return true;
  }

  /** Granted, to proceed after the estimated wait, with the reset as when it was made ({@link Decision#allowedAfter}). */
  @Override
  public Decision decision() {
    return Decision.allowedAfter(0, Math.max(1, delayNanos), resetNanos);
  }

  @Override
  public Duration delay() {
    return Duration.ofNanos(delayNanos);
  }

  @Override
  public long delayNanos() {
    return delayNanos;
  }

  @Override
  public boolean isReady() {
    return isDone() && !isCompletedExceptionally();
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
      try {
        join();
      } catch (CancellationException cancelled) {
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

  /** Failing the future gives up the place too; a future whose reservation is ready completes normally instead. */
  @Override
  public boolean completeExceptionally(Throwable ex) {
    return giveUp() && super.completeExceptionally(ex);
  }

  /** Only the limiter makes a reservation ready. */
  @Override
  public boolean complete(Void value) {
    return false;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + (isReady() ? "ready" : isDone() ? "cancelled" : "waiting") + ", delay "
        + delayNanos + " ns]";
  }
}
