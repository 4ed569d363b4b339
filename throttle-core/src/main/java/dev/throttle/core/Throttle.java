package dev.throttle.core;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A rate and a concurrency limit together: "100 per second, at most 10 open at a time". What the throttled HTTP
 * client takes before each request.
 *
 * <p>The in-flight permit is taken first and the rate slot second, so that the moments at which work starts obey
 * the rate exactly: taking the rate slot first would let slots pile up while all permits are busy and then start
 * a burst of work at once when permits come back. A permit is held while waiting for the slot, which never lets
 * more than N run. If anything fails or is cancelled along the way, the permit is released and the rate slot's
 * tokens returned.
 */
public final class Throttle {

  private final RateLimiter rate;
  private final ConcurrencyLimiter concurrency;

  private Throttle(RateLimiter rate, ConcurrencyLimiter concurrency) {
    this.rate = Objects.requireNonNull(rate, "rate");
    this.concurrency = Objects.requireNonNull(concurrency, "concurrency");
  }

  /** {@code rate} and at most {@code concurrency.maxInFlight()} at a time. */
  public static Throttle of(RateLimiter rate, ConcurrencyLimiter concurrency) {
    return new Throttle(rate, concurrency);
  }

  /** {@code limit} and at most {@code maxInFlight} at a time, on the system clock. */
  public static Throttle of(Limit limit, int maxInFlight) {
    return new Throttle(RateLimiter.of(limit), ConcurrencyLimiter.of(maxInFlight));
  }

  public RateLimiter rate() {
    return rate;
  }

  public ConcurrencyLimiter concurrency() {
    return concurrency;
  }

  /** A permit, if one is free and the rate allows {@code cost} now. */
  public Optional<ConcurrencyLimiter.Permit> tryAcquire(long cost) {
    Optional<ConcurrencyLimiter.Permit> permit = concurrency.tryAcquire();
    if (permit.isPresent() && !rate.tryAcquire(cost)) {
      permit.get().close();
      return Optional.empty();
    }
    return permit;
  }

  /**
   * Waits for a permit, then for {@code cost} tokens of the rate.
   *
   * @throws InterruptedException if interrupted while waiting (nothing is kept: the permit is released, the tokens
   *     returned)
   */
  public ConcurrencyLimiter.Permit acquire(long cost) throws InterruptedException {
    ConcurrencyLimiter.Permit permit = concurrency.acquire();
    try {
      rate.acquire(cost);
      return permit;
    } catch (InterruptedException | RuntimeException e) {
      permit.close();
      throw e;
    }
  }

  /**
   * A future completed with a permit once both a permit and {@code cost} tokens have been obtained. Cancelling it
   * gives up whichever wait is under way and returns what was obtained.
   */
  public CompletableFuture<ConcurrencyLimiter.Permit> acquireAsync(long cost) {
    rate.limit().checkCost(cost); // before taking a permit
    Acquisition acquisition = new Acquisition();
    CompletableFuture<ConcurrencyLimiter.Permit> permitFuture = concurrency.acquireAsync();
    acquisition.stage = permitFuture;
    permitFuture.whenComplete((permit, error) -> {
      if (error != null) {
        acquisition.completeExceptionally(error);
        return;
      }
      if (acquisition.isDone()) {
        permit.close(); // cancelled while waiting for the permit
        return;
      }
      CompletableFuture<Void> slot = rate.acquireAsync(cost);
      acquisition.stage = slot;
      slot.whenComplete((ignored, slotError) -> {
        if (slotError != null) {
          permit.close();
          acquisition.completeExceptionally(slotError);
        } else if (!acquisition.complete(permit)) {
          permit.close(); // cancelled at the moment the slot came: the slot is spent, the permit goes back
        }
      });
      if (acquisition.isDone()) {
        slot.cancel(false);
      }
    });
    return acquisition;
  }

  @Override
  public String toString() {
    return "Throttle[" + rate.limit() + ", " + concurrency + "]";
  }

  /** The future handed out: cancelling it cancels the stage under way. */
  private static final class Acquisition extends CompletableFuture<ConcurrencyLimiter.Permit> {
    volatile CompletableFuture<?> stage;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        CompletableFuture<?> s = stage;
        if (s != null) {
          s.cancel(false);
        }
      }
      return cancelled;
    }
  }
}
