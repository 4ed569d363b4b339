package dev.throttle.core;

import java.time.Duration;

/**
 * The outcome of asking a limiter for tokens, with the four numbers that drive every response header, every retry
 * and every metric. Immutable.
 *
 * <ul>
 *   <li>{@link #isAllowed()}: whether the tokens were taken (or, for a reservation granted with a wait, are the
 *       caller's at the end of the wait);
 *   <li>{@link #remaining()}: whole tokens left afterwards (with several limits, the fewest);
 *   <li>{@link #waitTime()}: 0 when allowed now; when refused, how long until the same request would be allowed (for
 *       {@code Retry-After}); for a reservation granted with a wait ({@link #allowedAfter}), how long until it may
 *       proceed;
 *   <li>{@link #resetTime()}: how long until the bucket is full again (for {@code X-RateLimit-Reset}).
 * </ul>
 */
public final class Decision {

  private final boolean allowed;
  private final long remaining;
  private final long waitNanos;
  private final long resetNanos;

  private Decision(boolean allowed, long remaining, long waitNanos, long resetNanos) {
    this.allowed = allowed;
    this.remaining = remaining;
    this.waitNanos = waitNanos;
    this.resetNanos = resetNanos;
  }

  /** The tokens were taken; {@code remaining} are left and the bucket is full again after {@code resetNanos}. */
  public static Decision allowed(long remaining, long resetNanos) {
    requireNotNegative(remaining, "remaining");
    requireNotNegative(resetNanos, "resetNanos");
    return new Decision(true, remaining, 0, resetNanos);
  }

  /**
   * A reservation granted with a wait: the tokens are the caller's, and it may proceed after {@code waitNanos}
   * (positive); {@code remaining} are left after it and the bucket is full {@code resetNanos} from now. The
   * {@link Reservation#decision()} of a granted reservation that waits.
   */
  public static Decision allowedAfter(long remaining, long waitNanos, long resetNanos) {
    requireNotNegative(remaining, "remaining");
    if (waitNanos <= 0) {
      throw new IllegalArgumentException("a wait must be positive, got " + waitNanos + " ns; use allowed(...)");
    }
    requireNotNegative(resetNanos, "resetNanos");
    return new Decision(true, remaining, waitNanos, resetNanos);
  }

  /** Nothing was taken; the same request would pass after {@code waitNanos} (positive). */
  public static Decision refused(long remaining, long waitNanos, long resetNanos) {
    requireNotNegative(remaining, "remaining");
    if (waitNanos <= 0) {
      throw new IllegalArgumentException("a refusal must have a positive wait, got " + waitNanos + " ns");
    }
    requireNotNegative(resetNanos, "resetNanos");
    return new Decision(false, remaining, waitNanos, resetNanos);
  }

  private static void requireNotNegative(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " cannot be negative: " + value);
    }
  }

  /**
   * Whether the tokens are the caller's: the request may proceed now, or after {@link #waitTime()} for a reservation
   * granted with a wait ({@link #allowedAfter}).
   */
  public boolean isAllowed() {
    return allowed;
  }

  /** Whole tokens left after this decision. */
  public long remaining() {
    return remaining;
  }

  /**
   * 0 when allowed now; when refused, the time until the same request would be allowed; for a reservation granted
   * with a wait, the time until it may proceed.
   */
  public Duration waitTime() {
    return Duration.ofNanos(waitNanos);
  }

  /** {@link #waitTime()} in nanoseconds. */
  public long waitNanos() {
    return waitNanos;
  }

  /** The time until the bucket is full again (0 if it is full). */
  public Duration resetTime() {
    return Duration.ofNanos(resetNanos);
  }

  /** {@link #resetTime()} in nanoseconds. */
  public long resetNanos() {
    return resetNanos;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Decision d && allowed == d.allowed && remaining == d.remaining && waitNanos == d.waitNanos
        && resetNanos == d.resetNanos;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(remaining) * 31 + Long.hashCode(waitNanos) * 17 + Long.hashCode(resetNanos)
        + (allowed ? 1 : 0);
  }

  @Override
  public String toString() {
    if (allowed) {
      return (waitNanos == 0 ? "allowed" : "allowed after " + waitNanos + " ns") + " (remaining " + remaining
          + ", full in " + resetNanos + " ns)";
    }
    return "refused (remaining " + remaining + ", wait " + waitNanos + " ns, full in " + resetNanos + " ns)";
  }
}
