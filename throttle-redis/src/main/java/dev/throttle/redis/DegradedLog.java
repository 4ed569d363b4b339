package dev.throttle.redis;

import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Rate-limited warnings: at most one line every 10 seconds, saying how many were held back since the last. A dead
 * Redis under load would otherwise write a line per request. (The gate is, of course, a Throttle limiter.)
 */
final class DegradedLog {

  private final Logger log;
  private final RateLimiter gate = RateLimiter.of(Limit.parse("1/10s"));
  private final LongAdder held = new LongAdder();

  DegradedLog(Logger log) {
    this.log = log;
  }

  void warn(String message, Throwable cause) {
    if (!log.isWarnEnabled()) {
      return;
    }
    if (gate.tryAcquire()) {
      long n = held.sumThenReset();
      log.warn("{}: {}{}", message, describe(cause), n > 0 ? " (and " + n + " more since the last message)" : "");
    } else {
      held.increment();
    }
  }

  /** The failure inside a {@link CompletionException}, or {@code e} itself. */
  static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  static String describe(Throwable e) {
    Throwable t = unwrap(e);
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : " " + t.getMessage());
  }
}
