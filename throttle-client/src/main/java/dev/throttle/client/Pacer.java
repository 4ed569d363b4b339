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
 * The client's second gate, after its own limit: sends spaced at {@code 1 / rate} plus a <em>spacing margin</em>,
 * with no burst. It is switched on when the server shows that it will not take bursts (a strict leaky bucket such as
 * nginx {@code limit_req} without {@code burst}, a bucket whose remaining quota is 0), when the rate is learned
 * ({@code --rate auto}), and always in adaptive mode.
 *
 * <h2>The spacing margin</h2>
 *
 * A strict server refuses any request that arrives less than {@code 1/rate} after the previous one, at millisecond
 * granularity; requests sent exactly {@code 1/rate} apart arrive some a little closer, some a little further apart,
 * and the closer ones are refused. Halving the rate for such a refusal (AIMD) throws away half the allowance for a
 * jitter of a millisecond. Instead, each {@code 429} at a rate the client already keeps widens the spacing by
 * {@value #MARGIN_STEP} of the interval (at most {@value #MARGIN_CAP}), and each second without one narrows it by a
 * tenth; it starts at {@value #MARGIN_START}. So the margin settles where refusals are rare, and its cost stays a few
 * percent of the rate.
 *
 * <h2>Adaptive mode (AIMD)</h2>
 *
 * For a server whose limit is unknown: the rate halves on a {@code 429} only once the margin has reached its cap
 * (spacing cannot explain the refusals: the rate is too high), and climbs back by a twentieth of the ceiling per
 * second without one. Without a ceiling ({@code --rate auto} against a server that publishes nothing), it starts
 * slowly and grows by a quarter per second until the first {@code 429} (slow start), whose rate then becomes the
 * ceiling. A rate published by the server ({@link #learnRate}) replaces the ceiling at once.
 *
 * <p>How: the core's limiters have a fixed {@link Limit}, and the token math must not be written twice. So the gate
 * holds a {@link RateLimiter} (burst 1) for the current spacing and, when it changes, replaces it with a new one,
 * moves the waiters of the old one to the new one in their order, and takes the new one's single token at once, so
 * that the first send after a change comes one new interval later. One decrease per round trip: a {@code 429}
 * answering a request sent before the last change says nothing about the new spacing and is ignored (TCP's "once
 * per window"). The rate never goes below a hundredth of the ceiling (nor below 1/min).
 *
 * <p>Thread-safe. Waiters are at most the client's number in flight, since each holds an in-flight permit.
 */
final class Pacer {

  static final double MARGIN_START = 0.005;
  static final double MARGIN_STEP = 0.005;
  static final double MARGIN_CAP = 0.10;
  static final double MARGIN_DECAY = 0.9;
  static final double DECREASE_FACTOR = 0.5;
  static final double INCREASE_FRACTION = 0.05;
  static final double SLOW_START_FACTOR = 1.25;
  static final long EVERY_NANOS = 1_000_000_000L;

  private final boolean aimd;
  private final Clock clock;
  private final Scheduler scheduler;
  private final Set<Waiter> waiters = new LinkedHashSet<>();
  private double ceiling; // NaN: not known yet (slow start)
  private RateLimiter limiter;
  private double rate;
  private double margin = MARGIN_START;
  private long lastChange;
  private boolean changed;
  private long lastIncrease;
  private int early;
  private double pendingRate = Double.NaN; // a widening to apply at the next grant
  private double pendingMargin;

  /**
   * @param ratePerSecond the rate to keep (the ceiling in adaptive mode), or NaN for none known (then adaptive, with
   *     a slow start from {@code startPerSecond})
   */
  Pacer(double ratePerSecond, boolean aimd, double startPerSecond, Clock clock, Scheduler scheduler) {
    this.aimd = aimd || Double.isNaN(ratePerSecond);
    this.clock = clock;
    this.scheduler = scheduler;
    this.ceiling = ratePerSecond;
    this.rate = Double.isNaN(ratePerSecond) ? startPerSecond : ratePerSecond;
    this.lastChange = clock.nanoTime();
    this.lastIncrease = lastChange;
    this.limiter = limiterFor(rate, margin);
  }

  /** Takes the one token now, so that the first send comes one interval later (after a refusal). */
  synchronized void startEmpty() {
    limiter.tryAcquire();
  }

  /** The sustained rate of a limit in requests per second: the slowest of its buckets. */
  static double perSecond(Limit limit) {
    double min = Double.MAX_VALUE;
    for (Bandwidth b : limit.bandwidths()) {
      min = Math.min(min, b.amount() * 1e9 / b.periodNanos());
    }
    return min;
  }

  /** The current rate, in requests per second (before the margin). */
  synchronized double rate() {
    return rate;
  }

  /** The spacing margin, as a fraction of the interval. */
  synchronized double margin() {
    return margin;
  }

  /** {@code 429}s counted as early (at a rate kept), since the start. */
  synchronized int earlyRefusals() {
    return early;
  }

  /** A future completed when the next send may go; cancelling it gives up the place. */
  CompletableFuture<Void> acquire() {
    Waiter w = new Waiter();
    synchronized (this) {
      attach(w);
    }
    return w;
  }

  /** The pacing is no longer needed: every call waiting for it goes now. */
  synchronized void releaseAll() {
    for (Waiter w : new ArrayList<>(waiters)) {
      if (w.inner.cancel(false)) {
        waiters.remove(w);
        w.complete(null);
      }
    }
  }

  /**
   * A {@code 429} answered a request sent at {@code sentNanos} at a rate the client keeps: widen the margin; in
   * adaptive mode, once the margin is at its cap, halve the rate (at the first one of a slow start, take the rate it
   * came at as the ceiling). Once per round trip.
   */
  void onRateLimited(long sentNanos) {
    synchronized (this) {
      if (changed && sentNanos - lastChange < 0) {
        return;
      }
      early++;
      long now = clock.nanoTime();
      if (aimd && Double.isNaN(ceiling)) {
        ceiling = rate / SLOW_START_FACTOR;
        change(ceiling, margin, now);
      } else if (aimd && margin >= MARGIN_CAP - 1e-9) {
        change(Math.max(floor(), rate * DECREASE_FACTOR), margin, now);
      } else {
        change(rate, Math.min(MARGIN_CAP, Math.round((margin + MARGIN_STEP) * 1e6) / 1e6), now);
      }
    }
  }

  /** The server published its rate: keep to it (the new ceiling). */
  void learnRate(double perSecond) {
    synchronized (this) {
      if (perSecond > 0 && perSecond != ceiling) {
        ceiling = perSecond;
        change(aimd ? Math.min(perSecond, Math.max(rate, perSecond * DECREASE_FACTOR)) : perSecond, margin,
            clock.nanoTime());
      }
    }
  }

  /** A success: once a second, narrow the margin and (adaptive) climb back. */
  void onSuccess() {
    synchronized (this) {
      long now = clock.nanoTime();
      if (now - lastIncrease < EVERY_NANOS || now - lastChange < EVERY_NANOS) {
        return;
      }
      lastIncrease = now;
      double newRate = rate;
      if (aimd && Double.isNaN(ceiling)) {
        newRate = rate * SLOW_START_FACTOR;
      } else if (aimd && rate < ceiling) {
        newRate = Math.min(ceiling, rate + ceiling * INCREASE_FRACTION);
      }
      double newMargin = Math.max(MARGIN_START, margin * MARGIN_DECAY);
      if (newRate != rate || newMargin != margin) {
        // applied at the next grant, so that the grid goes on from it instead of restarting mid-interval
        pendingRate = newRate;
        pendingMargin = newMargin;
      }
    }
  }

  private double floor() {
    return Math.min(ceiling, Math.max(ceiling / 100, 1.0 / 60));
  }

  private void change(double newRate, double newMargin, long now) {
    pendingRate = Double.NaN;
    rate = newRate;
    margin = newMargin;
    lastChange = now;
    changed = true;
    limiter = limiterFor(newRate, newMargin);
    limiter.tryAcquire(); // start empty: the next send comes one interval from now
    for (Waiter w : new ArrayList<>(waiters)) {
      CompletableFuture<Void> old = w.inner;
      if (old.cancel(false)) { // still waiting on the old limiter: move it, in order
        attach(w);
      }
    }
  }

  /**
   * The interval between two sends, margin included, in nanoseconds: what the gate's limiter keeps between its grants,
   * and what the client keeps between two actual sends (a grant may reach the wire late; the one after it must not
   * then go early).
   */
  synchronized long spacingNanos() {
    return thousandIntervalsMs(rate, margin) * 1_000L;
  }

  /** The interval between two sends at the current rate, without the margin, in nanoseconds. */
  synchronized long intervalNanos() {
    return thousandIntervalsMs(rate, 0) * 1_000L;
  }

  private static long thousandIntervalsMs(double perSecond, double margin) {
    return Math.max(1, Math.round(1e6 * (1 + margin) / perSecond));
  }

  /** Burst 1, one send every {@code (1 + margin) / perSecond}, to the microsecond (1000 per whole milliseconds). */
  private RateLimiter limiterFor(double perSecond, double margin) {
    long thousandIntervalsMs = thousandIntervalsMs(perSecond, margin);
    Limit limit = Limit.builder().rate(1000, Duration.ofMillis(thousandIntervalsMs)).burst(1).build();
    return RateLimiter.builder(limit).clock(clock).scheduler(scheduler).build();
  }

  // Called with the monitor held.
  private void attach(Waiter w) {
    CompletableFuture<Void> inner = limiter.acquireAsync();
    w.inner = inner;
    waiters.add(w);
    inner.whenComplete((ignored, error) -> {
      synchronized (Pacer.this) {
        if (w.inner != inner) {
          return;
        }
        waiters.remove(w);
        if (error == null && !Double.isNaN(pendingRate)) {
          change(pendingRate, pendingMargin, clock.nanoTime());
          changed = false; // a widening: a 429 of an earlier round trip still counts
        }
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
    return String.format(java.util.Locale.ROOT, "Pacer[%.3f/s%s, margin %.1f %%, %d waiting]", rate,
        Double.isNaN(ceiling) ? " (slow start)" : " of " + ceiling + "/s", margin * 100, waiters.size());
  }

  /** The future handed out; cancelling it cancels the wait on whichever limiter it is on. */
  private final class Waiter extends CompletableFuture<Void> {
    volatile CompletableFuture<Void> inner;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        CompletableFuture<Void> i;
        synchronized (Pacer.this) {
          waiters.remove(this);
          i = inner;
        }
        i.cancel(false);
      }
      return cancelled;
    }
  }
}
