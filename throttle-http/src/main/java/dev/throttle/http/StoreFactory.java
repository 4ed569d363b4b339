package dev.throttle.http;

import dev.throttle.core.Clock;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Scheduler;
import java.util.Objects;

/**
 * Makes the store (a {@link KeyedRateLimiter}) each rule decides through, when the rule was not given one ({@link Rule.Builder#store}). Called
 * once per rule when the throttle is built.
 *
 * <p>The default keeps every key's bucket in this process ({@link #inMemory()}). A store shared by several servers
 * plugs in here with no other change: a factory returning, for each rule, a throttle-redis store for
 * {@code rule.limit()} under a key prefix made from {@code rule.name()}. The throttle only ever calls
 * {@link KeyedRateLimiter#decideAsync} and {@link KeyedRateLimiter#reserveAsync}, and waits for their futures
 * without holding a thread.
 */
@FunctionalInterface
public interface StoreFactory {

  /** The default number of keys an in-memory store holds per rule. */
  int DEFAULT_MAX_KEYS = 100_000;

  /**
   * A store enforcing {@code rule.limit()} for every key.
   *
   * @throws IllegalArgumentException if it cannot (the throttle's builder reports it, naming the rule)
   */
  KeyedRateLimiter<String> create(Rule rule);

  /** In-process stores holding at most {@value #DEFAULT_MAX_KEYS} keys per rule. */
  static StoreFactory inMemory() {
    return inMemory(DEFAULT_MAX_KEYS);
  }

  /**
   * In-process stores ({@link KeyedRateLimiter}) holding at most {@code maxKeysPerRule} keys each. A key costs about
   * 64 bytes plus its text (at most a few hundred characters, see {@link KeyResolver#MAX_VALUE_LENGTH}); beyond the
   * maximum, the buckets holding the most tokens are dropped first (see {@link KeyedRateLimiter}).
   */
  static StoreFactory inMemory(int maxKeysPerRule) {
    return inMemory(maxKeysPerRule, Clock.system(), Scheduler.shared());
  }

  /** In-process stores on the given clock and scheduler (tests pass a {@code ManualClock} for both). */
  static StoreFactory inMemory(int maxKeysPerRule, Clock clock, Scheduler scheduler) {
    if (maxKeysPerRule < 1) {
      throw new IllegalArgumentException("maxKeysPerRule must be at least 1, got " + maxKeysPerRule);
    }
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(scheduler, "scheduler");
    return rule -> KeyedRateLimiter.<String>builder(rule.limit())
        .maxKeys(maxKeysPerRule)
        .clock(clock)
        .scheduler(scheduler)
        .build();
  }
}
