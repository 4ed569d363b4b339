package dev.throttle.redis;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stops waiting for a dead Redis on every call: after {@code threshold} failures in a row (timeouts, errors), the
 * circuit opens and calls skip Redis for {@code openNanos}; then one call at a time probes it (half-open), and the
 * first success closes the circuit. Real time ({@link System#nanoTime()}), whatever clock the limiter decides on.
 * Thread-safe, lock-free.
 */
final class Circuit {

  private final int threshold;
  private final long openNanos;
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile long openUntil;

  Circuit(int threshold, long openNanos) {
    this.threshold = threshold;
    this.openNanos = openNanos;
  }

  /** Whether a call may go to Redis now; when it returns true, the caller must report success or failure. */
  boolean tryPass() {
    if (failures.get() < threshold) {
      return true;
    }
    if (System.nanoTime() - openUntil < 0) {
      return false;
    }
    return probing.compareAndSet(false, true);
  }

  void success() {
    // Read before writing: every answered call lands here, and writes would bounce the line between threads.
    if (failures.get() != 0) {
      failures.set(0);
    }
    if (probing.get()) {
      probing.set(false);
    }
  }

  void failure() {
    if (failures.incrementAndGet() >= threshold) {
      openUntil = System.nanoTime() + openNanos;
      probing.set(false);
    }
  }

  boolean isOpen() {
    return failures.get() >= threshold;
  }
}
