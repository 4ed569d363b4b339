package dev.throttle.gateway;

import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Warnings caused by others (clients sending malformed requests, an upstream down), limited by a Throttle limiter so
 * that a flood of them is a few lines, each saying how many were held back since the last. What they are is counted
 * in the metrics, whether logged or not.
 */
final class LimitedLog {

  private final Logger log;
  private final RateLimiter gate;
  private final LongAdder held = new LongAdder();

  /** At most {@code limit} lines (the core's grammar, such as {@code 1/s burst 5}). */
  LimitedLog(Logger log, String limit) {
    this.log = log;
    this.gate = RateLimiter.of(Limit.parse(limit));
  }

  void warn(String format, Object... args) {
    if (!log.isWarnEnabled()) {
      return;
    }
    if (gate.tryAcquire()) {
      long n = held.sumThenReset();
      log.warn(n > 0 ? format + " (" + n + " more since the last warning)" : format, args);
    } else {
      held.increment();
    }
  }
}
