package dev.throttle.client;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Clock;
import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * The adaptive rate (AIMD) of a client whose server's limit is unknown: a gate after the throttle that paces sends at
 * a rate that halves on a {@code 429} and climbs back by a twentieth of the ceiling per second without one.
 *
 * <p>Why a gate of its own, and how: the core's limiters have a fixed {@link Limit}, and the token math must not be
 * written twice. So the gate holds a {@link RateLimiter} for the current rate (burst 1) and, when the rate changes,
 * replaces it with a new one, moves the waiters of the old one to the new one in their order, and takes the new
 * one's single token at once, so that the first send after a change comes one new interval later (a fresh limiter
 * would otherwise let one request through at once, just after a {@code 429}).
 *
 * <p>One decrease per round trip: a {@code 429} answering a request sent before the last decrease says nothing about
 * the decreased rate and is ignored (TCP's "once per window"). The rate never goes below a hundredth of the ceiling
 * (nor below 1/min, unless the ceiling itself is lower).
 *
 * <p>Thread-safe. Waiters are at most the client's number in flight, since each holds an in-flight permit.
 */
final class AdaptiveRate {

  static final double DECREASE_FACTOR = 0.5;
  static final double INCREASE_FRACTION = 0.05;
  static final long INCREASE_EVERY_NANOS = 1_000_000_000L;

  private final double ceiling;
  private final double floor;
  private final Clock clock;
  private final Scheduler scheduler;
  private final Set<Waiter> waiters = new LinkedHashSet<>();
  private RateLimiter limiter;
  private double rate;
  private long lastDecrease;
  private boolean decreased;
  private long lastChange;

  AdaptiveRate(double ceilingPerSecond, Clock clock, Scheduler scheduler) {
    this.ceiling = ceilingPerSecond;
    this.floor = Math.min(ceilingPerSecond, Math.max(ceilingPerSecond / 100, 1.0 / 60));
    this.clock = clock;
    this.scheduler = scheduler;
    this.rate = ceilingPerSecond;
    this.limiter = limiterFor(ceilingPerSecond);
    this.lastChange = clock.nanoTime();
  }

  /** The sustained rate of a limit in requests per second: the slowest of its buckets. */
  static double perSecond(Limit limit) {
    double min = Double.MAX_VALUE;
    for (Bandwidth b : limit.bandwidths()) {
      min = Math.min(min, b.amount() * 1e9 / b.periodNanos());
    }
    return min;
  }

  /** The current rate, in requests per second. */
  synchronized double rate() {
    return rate;
  }

  /** A future completed when the next send may go at the current rate; cancelling it gives up the place. */
  CompletableFuture<Void> acquire() {
    Waiter w = new Waiter();
    synchronized (this) {
      attach(w);
    }
    return w;
  }

  /** A {@code 429} answered a request sent at {@code sentNanos}: halve the rate, once per round trip. */
  void onRateLimited(long sentNanos) {
    synchronized (this) {
      if (decreased && sentNanos - lastDecrease < 0) {
        return;
      }
      long now = clock.nanoTime();
      decreased = true;
      lastDecrease = now;
      change(Math.max(floor, rate * DECREASE_FACTOR), now);
    }
  }

  /** A success: climb by a twentieth of the ceiling if a second has passed since the last change. */
  void onSuccess() {
    synchronized (this) {
      long now = clock.nanoTime();
      if (rate < ceiling && now - lastChange >= INCREASE_EVERY_NANOS) {
        change(Math.min(ceiling, rate + ceiling * INCREASE_FRACTION), now);
      }
    }
  }

  private void change(double newRate, long now) {
    rate = newRate;
    lastChange = now;
    limiter = limiterFor(newRate);
    limiter.tryAcquire(); // start empty: the next send comes one interval from now
    for (Waiter w : new ArrayList<>(waiters)) {
      CompletableFuture<Void> old = w.inner;
      if (old.cancel(false)) { // still waiting on the old limiter: move it, in order
        attach(w);
      }
    }
  }

  /** Burst 1 at the given rate, to a thousandth of a request per second. */
  private RateLimiter limiterFor(double perSecond) {
    long perThousandSeconds = Math.max(1, Math.round(perSecond * 1000));
    Limit limit = Limit.builder().rate(perThousandSeconds, Duration.ofSeconds(1000)).burst(1).build();
    return RateLimiter.builder(limit).clock(clock).scheduler(scheduler).build();
  }

  // Called with the monitor held.
  private void attach(Waiter w) {
    CompletableFuture<Void> inner = limiter.acquireAsync();
    w.inner = inner;
    waiters.add(w);
    inner.whenComplete((ignored, error) -> {
      synchronized (AdaptiveRate.this) {
        if (w.inner != inner) {
          return;
        }
        waiters.remove(w);
      }
      if (error == null) {
        w.complete(null);
      } else if (!(error instanceof CancellationException)) {
        w.completeExceptionally(error);
      }
    });
  }

  @Override
  public synchronized String toString() {
    return String.format(java.util.Locale.ROOT, "AdaptiveRate[%.3f/s of %.3f/s, %d waiting]", rate, ceiling,
        waiters.size());
  }

  /** The future handed out; cancelling it cancels the wait on whichever limiter it is on. */
  private final class Waiter extends CompletableFuture<Void> {
    volatile CompletableFuture<Void> inner;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        CompletableFuture<Void> i;
        synchronized (AdaptiveRate.this) {
          waiters.remove(this);
          i = inner;
        }
        i.cancel(false);
      }
      return cancelled;
    }
  }
}
