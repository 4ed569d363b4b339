package dev.throttle.redis;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import java.util.Map;
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
  private final ConcurrentHashMap<K, Block> blocks = new ConcurrentHashMap<>();
  private volatile int sweepAt = 1024;

  ShortCircuit(Clock clock) {
    this.clock = clock;
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
    int size = blocks.size();
    if (size >= sweepAt) {
      sweep();
      size = blocks.size();
    }
    if (size >= MAX_ENTRIES) {
      return;
    }
    long now = clock.nanoTime();
    blocks.put(key, new Block(cost, now + refused.waitNanos(), now, refused));
  }

  private synchronized void sweep() {
    if (blocks.size() < sweepAt) {
      return; // another thread swept while this one waited for the lock
    }
    long now = clock.nanoTime();
    for (Map.Entry<K, Block> e : blocks.entrySet()) {
      if (e.getValue().until - now <= 0) {
        blocks.remove(e.getKey(), e.getValue());
      }
    }
    sweepAt = Math.max(1024, blocks.size() * 2);
  }
}
