package dev.throttle.core;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * At most N at a time ("in flight"). A {@link Permit} is held for the duration of the work and released by
 * {@link Permit#close()}, typically in try-with-resources.
 *
 * <p>First come, first served: while anyone waits, {@link #tryAcquire()} fails and new requests queue behind.
 * No permit is ever lost: a waiter that is cancelled, times out or is completed exceptionally (for example by
 * {@link CompletableFuture#orTimeout}) before its turn leaves the queue, and a permit offered to a waiter that has
 * already given up goes to the next one. Thread-safe; waiting holds no thread.
 */
public final class ConcurrencyLimiter {

  private final int max;
  private int available;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  private ConcurrencyLimiter(int max) {
    this.max = max;
    this.available = max;
  }

  /**
   * A limiter allowing {@code maxInFlight} permits at once.
   *
   * @throws IllegalArgumentException if {@code maxInFlight} is below 1
   */
  public static ConcurrencyLimiter of(int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("the number in flight must be at least 1, got " + maxInFlight);
    }
    return new ConcurrencyLimiter(maxInFlight);
  }

  /** The most permits held at once. */
  public int maxInFlight() {
    return max;
  }

  /** Permits held now. */
  public synchronized int inFlight() {
    return max - available;
  }

  /** Requests waiting now. */
  public synchronized int waiting() {
    return waiters.size();
  }

  /** A permit if one is free now and nobody waits. */
  public Optional<Permit> tryAcquire() {
    synchronized (this) {
      if (available == 0 || !waiters.isEmpty()) {
        return Optional.empty();
      }
      available--;
    }
    return Optional.of(new Permit(this));
  }

  /**
   * A future completed with a permit when one is free, first come first served. Cancelling it (or completing it
   * exceptionally) before then gives up the place; once it holds a permit, close the permit.
   */
  public CompletableFuture<Permit> acquireAsync() {
    synchronized (this) {
      if (available > 0 && waiters.isEmpty()) {
        available--;
      } else {
        Waiter waiter = new Waiter(this);
        waiters.addLast(waiter);
        return waiter;
      }
    }
    return CompletableFuture.completedFuture(new Permit(this));
  }

  /**
   * Waits for a permit.
   *
   * @throws InterruptedException if interrupted while waiting (the place is given up)
   */
  public Permit acquire() throws InterruptedException {
    CompletableFuture<Permit> future = acquireAsync();
    try {
      return future.get();
    } catch (InterruptedException e) {
      if (future.cancel(false)) {
        throw e;
      }
      Thread.currentThread().interrupt(); // the permit came at the same moment: keep it, and the interrupt
      return future.join();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Waits up to {@code timeout} for a permit.
   *
   * @throws InterruptedException if interrupted while waiting (the place is given up)
   */
  public Optional<Permit> tryAcquire(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    CompletableFuture<Permit> future = acquireAsync();
    try {
      return Optional.of(future.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS));
    } catch (TimeoutException e) {
      return future.cancel(false) ? Optional.empty() : Optional.of(future.join());
    } catch (InterruptedException e) {
      if (future.cancel(false)) {
        throw e;
      }
      Thread.currentThread().interrupt();
      return Optional.of(future.join());
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Gives a released permit to the first waiter still waiting, or back to the pool. */
  private void release() {
    while (true) {
      Waiter next;
      synchronized (this) {
        next = waiters.pollFirst();
        if (next == null) {
          if (available == max) {
            throw new IllegalStateException("more permits released than acquired");
          }
          available++;
          return;
        }
      }
      if (next.grant(new Permit(this))) {
        return;
      }
      // That waiter gave up in the meantime: offer the permit to the next one.
    }
  }

  private synchronized boolean remove(Waiter waiter) {
    return waiters.remove(waiter);
  }

  @Override
  public synchronized String toString() {
    return "ConcurrencyLimiter[" + (max - available) + "/" + max + " in flight, " + waiters.size() + " waiting]";
  }

  /** One of the N: close it when the work is done. Closing twice releases once. */
  public static final class Permit implements AutoCloseable {
    private final ConcurrencyLimiter owner;
    private final AtomicBoolean released = new AtomicBoolean();

    private Permit(ConcurrencyLimiter owner) {
      this.owner = owner;
    }

    /** Whether this permit has been released. */
    public boolean isReleased() {
      return released.get();
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        owner.release();
      }
    }
  }

  /** A queued request; leaves the queue when cancelled or failed before its turn. */
  private static final class Waiter extends CompletableFuture<Permit> {
    private final ConcurrencyLimiter owner;

    Waiter(ConcurrencyLimiter owner) {
      this.owner = owner;
    }

    /** Hands over {@code permit}; false (and the permit is released by the caller's loop) if this one gave up. */
    boolean grant(Permit permit) {
      if (super.complete(permit)) {
        return true;
      }
      permit.released.set(true); // never handed out: it goes to the next waiter instead of being released
      return false;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        owner.remove(this);
      }
      return cancelled;
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
      boolean failed = super.completeExceptionally(ex);
      if (failed) {
        owner.remove(this);
      }
      return failed;
    }
  }
}
