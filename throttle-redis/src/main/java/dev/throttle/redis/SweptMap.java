package dev.throttle.redis;

import dev.throttle.core.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The memory bound of the limiter's per-key maps (the short-circuit's refusals, the leases): at most {@code max} keys,
 * and entries whose time has passed swept when the map has doubled since the last sweep, so that a sweep's cost is
 * spread over the insertions that made it due. Beyond the bound nothing new is remembered, which only costs round
 * trips. Thread-safe.
 */
final class SweptMap<K, V> {

  /** Whether an entry's time has passed at {@code now} (nanoTime). */
  interface Expiry<V> {
    boolean over(V value, long now);
  }

  private final ConcurrentHashMap<K, V> map = new ConcurrentHashMap<>();
  private final int max;
  private final Clock clock;
  private final Expiry<V> expiry;
  private volatile int sweepAt = 1024;

  SweptMap(int max, Clock clock, Expiry<V> expiry) {
    this.max = max;
    this.clock = clock;
    this.expiry = expiry;
  }

  /** The map itself, for lookups and changes of keys already in it. */
  ConcurrentHashMap<K, V> map() {
    return map;
  }

  /** Whether a new key may be added: sweeps first when the map has doubled, then checks the bound. */
  boolean hasRoom() {
    if (map.size() >= sweepAt) {
      sweep();
    }
    return map.size() < max;
  }

  private synchronized void sweep() {
    if (map.size() < sweepAt) {
      return; // another thread swept while this one waited for the lock
    }
    long now = clock.nanoTime();
    for (Map.Entry<K, V> e : map.entrySet()) {
      if (expiry.over(e.getValue(), now)) {
        map.remove(e.getKey(), e.getValue());
      }
    }
    sweepAt = Math.max(1024, map.size() * 2);
  }
}
