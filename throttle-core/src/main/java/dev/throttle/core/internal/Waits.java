package dev.throttle.core.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Not API: shared by the stores of Throttle's own modules (the module exports this package only to them). The
 * longest wait a limiter handles, and a maximum wait converted to it.
 */
public final class Waits {

  private Waits() {}

  /**
   * The longest wait, about 73 years: a quarter of the {@code long} range, so that a time plus a wait never overflows.
   * Longer maximum waits are saturated to it.
   */
  public static final long MAX_WAIT_NANOS = Long.MAX_VALUE / 4;

  /** Converts a maximum wait to nanoseconds, saturating at {@link #MAX_WAIT_NANOS}; rejects a negative one. */
  public static long maxWaitNanos(Duration maxWait) {
    Objects.requireNonNull(maxWait, "maxWait");
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("the maximum wait cannot be negative: " + maxWait);
    }
    return maxWait.compareTo(Duration.ofNanos(MAX_WAIT_NANOS)) >= 0 ? MAX_WAIT_NANOS : maxWait.toNanos();
  }
}
