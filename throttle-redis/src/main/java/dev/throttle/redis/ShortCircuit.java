package dev.throttle.redis;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The local short-circuit: a key that Redis refused for a cost with a wait {@code w} is refused here, without a
 * round trip, for that cost or more until {@code w} has passed, with the same decision (its wait and reset
 * counted down). A smaller cost still goes to Redis, since it may pass sooner.
 *
 * <p>Memory: entries whose time has passed are dropped when met, and swept when the map has doubled; at most
 * {@value #MAX_ENTRIES} keys are remembered (beyond, refusals are not remembered, which only costs round trips).
 * Thread-safe.
 */
final class ShortCircuit<K> {

  static final int MAX_ENTRIES = 100_000;

  private record Block(long cost, long until, long at, Decision decision) {}

  private final Clock clock;
  private final SweptMap<K, Block> swept;
  private final ConcurrentHashMap<K, Block> blocks;

  ShortCircuit(Clock clock) {
    this.clock = clock;
    this.swept = new SweptMap<>(MAX_ENTRIES, clock, (b, now) -> b.until - now <= 0);
    this.blocks = swept.map();
  }

  /** The local refusal of {@code cost} for {@code key}, or null to ask Redis. */
  Decision refusal(K key, long cost, long maxWaitNanos) {
    Block b = blocks.get(key);
    if (b == null) {
      return null;
    }
    long now = clock.nanoTime();
    long left = b.until - now;
    if (left <= 0) {
      blocks.remove(key, b);
      return null;
    }
    if (cost < b.cost || left <= maxWaitNanos) {
      return null;
    }
    long reset = Math.max(left, b.decision.resetNanos() - (now - b.at));
    return Decision.refused(b.decision.remaining(), left, reset);
  }

  void remember(K key, long cost, Decision refused) {
    if (!swept.hasRoom()) {
      return;
    }
    long now = clock.nanoTime();
    blocks.put(key, new Block(cost, now + refused.waitNanos(), now, refused));
  }
}
