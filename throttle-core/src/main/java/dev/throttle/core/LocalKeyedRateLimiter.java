package dev.throttle.core;

import dev.throttle.core.internal.Waits;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One {@link Limit} per key (user, API key, client address...), each key with its own bucket, created full on
 * first use. Every operation of {@link RateLimiter} is here with a key in front, with the same guarantees per key.
 *
 * <h2>Memory</h2>
 *
 * A bucket that has refilled to full is indistinguishable from a new one, so it is dropped: memory follows the keys
 * active in the last time-to-full, not every key ever seen. Full buckets are swept when the number of keys has
 * doubled since the last sweep (and at least {@value #MIN_SWEEP} keys are held), or on {@link #cleanUp()}. A key
 * with a one-bucket limit costs about 64 bytes plus the key itself (see {@code docs/BENCHMARKS.md}).
 *
 * <h2>At the maximum number of keys</h2>
 *
 * When {@link Builder#maxKeys(int)} keys are held and a new key arrives, full buckets are swept first. If that
 * frees nothing, the {@link OverflowPolicy} decides:
 *
 * <ul>
 *   <li>{@link OverflowPolicy#EVICT_MOST_REFILLED} (default): the buckets holding the most tokens (the least
 *       recently busy, the closest to new) are dropped, a sixteenth of the maximum at a time, never one with
 *       waiters. A dropped key that comes back starts full, so it may get up to its burst again early: the cost of
 *       staying available under a flood of new keys, and paid by the keys that used the least.
 *   <li>{@link OverflowPolicy#REFUSE_NEW_KEYS}: requests with a new key are refused (wait: until the first held
 *       bucket is full and can be dropped); held keys are unaffected. Never grants more than the limit, but a flood
 *       of new keys locks out newcomers.
 * </ul>
 *
 * <p>Thread-safe. Keys must have proper {@code equals} and {@code hashCode}.
 */
public final class LocalKeyedRateLimiter<K> implements KeyedRateLimiter<K> {

  /** No sweep happens below this many keys. */
  static final int MIN_SWEEP = 1024;

  /** What to do when a new key arrives and the maximum number of keys is held. */
  public enum OverflowPolicy {
    /** Drop the buckets holding the most tokens to make room. */
    EVICT_MOST_REFILLED,
    /** Refuse requests with a new key until a held bucket is full again. */
    REFUSE_NEW_KEYS
  }

  private final Engine engine;
  private final int maxKeys;
  private final OverflowPolicy policy;
  private final ConcurrentHashMap<K, Object> states;
  private final Slots<K> slots = new MapSlots();
  private final ReentrantLock sweepLock = new ReentrantLock();
  private volatile int sweepAt = MIN_SWEEP;
  /** With {@link OverflowPolicy#REFUSE_NEW_KEYS}: new keys are refused until this time (since creation). */
  private volatile long roomAt = Long.MIN_VALUE;
  private volatile long evicted; // written under sweepLock

  private LocalKeyedRateLimiter(Builder<K> builder) {
    this.engine = new Engine(builder.limit, builder.clock, builder.scheduler);
    this.maxKeys = builder.maxKeys;
    this.policy = builder.policy;
    this.states = new ConcurrentHashMap<>(Math.min(builder.maxKeys, 1 << 16));
  }

  /** A per-key limiter on the system clock and shared scheduler, with at most 1,000,000 keys. */
  static <K> LocalKeyedRateLimiter<K> of(Limit limit) {
    return KeyedRateLimiter.<K>builder(limit).build();
  }

  /** A builder. */
  static <K> Builder<K> builder(Limit limit) {
    return new Builder<>(limit);
  }

  /** The limit each key gets. */
  public Limit limit() {
    return engine.plan.limit;
  }

  /** {@link RateLimiter#tryAcquire(long)} for {@code key}. */
  public boolean tryAcquire(K key, long cost) {
    engine.checkCost(cost);
    if (refusesNewKey(key)) {
      return false;
    }
    return engine.tryAcquire(slots, Objects.requireNonNull(key, "key"), cost) == Engine.GRANTED;
  }

  /** {@link RateLimiter#decide(long)} for {@code key}. */
  public Decision decide(K key, long cost) {
    engine.checkCost(cost);
    if (refusesNewKey(key)) {
      return newKeyRefusal();
    }
    return engine.decide(slots, Objects.requireNonNull(key, "key"), cost);
  }

  /**
   * {@link RateLimiter#available()} for {@code key}: the tokens a request could take now without waiting (0 while
   * requests wait). Takes nothing, and a key not held is answered as a full bucket without being added.
   */
  public long available(K key) {
    Objects.requireNonNull(key, "key");
    if (refusesNewKey(key)) {
      return 0;
    }
    return engine.available(slots, key);
  }

  /**
   * {@link RateLimiter#estimate(long)} for {@code key}: what {@link #decide} would answer now, taking nothing and
   * adding no key.
   */
  public Decision estimate(K key, long cost) {
    engine.checkCost(cost);
    Objects.requireNonNull(key, "key");
    if (refusesNewKey(key)) {
      return newKeyRefusal();
    }
    return engine.estimate(slots, key, cost);
  }

  /** {@link RateLimiter#reserve(long, Duration)} for {@code key}. */
  public Reservation reserve(K key, long cost, Duration maxWait) {
    engine.checkCost(cost);
    long maxWaitNanos = Waits.maxWaitNanos(maxWait);
    if (refusesNewKey(key)) {
      return new Reservations.Refused(newKeyRefusal());
    }
    return engine.reserve(slots, Objects.requireNonNull(key, "key"), cost, maxWaitNanos);
  }

  @Override
  public CompletableFuture<Decision> decideAsync(K key, long cost) {
    return CompletableFuture.completedFuture(decide(key, cost));
  }

  @Override
  public CompletableFuture<Decision> estimateAsync(K key, long cost) {
    return CompletableFuture.completedFuture(estimate(key, cost));
  }

  @Override
  public CompletableFuture<Reservation> reserveAsync(K key, long cost, Duration maxWait) {
    return CompletableFuture.completedFuture(reserve(key, cost, maxWait));
  }

  /** {@link RateLimiter#acquireAsync(long)} for {@code key}: cancelling the future returns the tokens. */
  @Override
  public CompletableFuture<Void> acquireAsync(K key, long cost) {
    Reservation r = reserve(key, cost, Reservations.FOREVER);
    return r.isGranted() ? r.whenReady() : CompletableFuture.failedFuture(Reservations.refusal(cost, r.decision()));
  }

  /** {@link KeyedRateLimiter.Cancellation#EXACT}: the waiters of a key are one queue in this process. */
  @Override
  public Cancellation cancellation() {
    return Cancellation.EXACT;
  }

  /** The keys held now and the buckets dropped before they were full. */
  @Override
  public Stats stats() {
    return new Stats(states.size(), evicted);
  }

  /**
   * Counts of an in-process keyed limiter.
   *
   * @param keys the keys held now (full buckets not yet swept included), as {@link #size()}
   * @param evictedBeforeFull buckets dropped before they were full, as {@link #evictedBeforeFull()}
   */
  public record Stats(long keys, long evictedBeforeFull) implements KeyedRateLimiter.Stats {
    @Override
    public Map<String, Long> counts() {
      Map<String, Long> counts = new java.util.LinkedHashMap<>();
      counts.put("keys", keys);
      counts.put("evictedBeforeFull", evictedBeforeFull);
      return counts;
    }
  }

  /** The number of keys held now (full buckets not yet swept included). */
  public int size() {
    return states.size();
  }

  /** The number of buckets dropped before they were full, by {@link OverflowPolicy#EVICT_MOST_REFILLED}. */
  public long evictedBeforeFull() {
    return evicted;
  }

  /** Drops every bucket that is full now. */
  public void cleanUp() {
    sweepLock.lock();
    try {
      sweep(engine.now());
    } finally {
      sweepLock.unlock();
    }
  }

  private boolean refusesNewKey(K key) {
    return policy == OverflowPolicy.REFUSE_NEW_KEYS && states.size() >= maxKeys && !states.containsKey(key)
        && !makeRoom(engine.now());
  }

  private Decision newKeyRefusal() {
    long wait = Math.max(1, roomAt - engine.now());
    return Decision.refused(0, wait, wait);
  }

  /** Sweeps, and applies the overflow policy if still at the maximum; true if a new key fits now. */
  private boolean makeRoom(long t) {
    if (policy == OverflowPolicy.REFUSE_NEW_KEYS && t < roomAt) {
      return false;
    }
    sweepLock.lock();
    try {
      if (states.size() < maxKeys) {
        return true;
      }
      long soonestFull = sweep(t);
      if (states.size() < maxKeys) {
        return true;
      }
      if (policy == OverflowPolicy.REFUSE_NEW_KEYS) {
        roomAt = soonestFull;
        return false;
      }
      evictMostRefilled(t, Math.max(1, maxKeys / 16));
      return states.size() < maxKeys;
    } finally {
      sweepLock.unlock();
    }
  }

  /** Drops full buckets; returns the earliest time at which a held bucket will be full. */
  private long sweep(long t) {
    long soonest = Long.MAX_VALUE;
    for (Map.Entry<K, Object> entry : states.entrySet()) {
      Object state = entry.getValue();
      if (state instanceof Cell) {
        Cell cell = (Cell) state;
        long level = cell.level;
        if (level == Cell.SEALED) {
          continue;
        }
        long e = engine.epochOf(cell.epoch, t);
        long at = e < 0 ? t : BucketMath.fullAt(engine.plan, 0, level, e);
        if (at <= t) {
          if (cell.compareAndSet(level, Cell.SEALED)) {
            states.remove(entry.getKey(), cell);
          }
        } else {
          soonest = Math.min(soonest, at);
        }
      } else if (((LockedBucket) state).retireIfFull(t)) {
        states.remove(entry.getKey(), state);
      }
    }
    sweepAt = Math.max(MIN_SWEEP, states.size() * 2);
    return soonest == Long.MAX_VALUE ? t + 1 : soonest;
  }

  /** Drops about {@code count} buckets, those holding the most tokens (as a fraction of the burst) first. */
  private void evictMostRefilled(long t, int count) {
    // Two passes: a histogram of fullness in 64ths of the burst, then drop from the fullest band down.
    int[] histogram = new int[65];
    long capacityTokens = engine.plan.maxCost;
    for (Object state : states.values()) {
      histogram[band(state, t, capacityTokens)]++;
    }
    int threshold = 64;
    int selected = histogram[64];
    while (threshold > 0 && selected < count) {
      selected += histogram[--threshold];
    }
    int dropped = 0;
    for (Map.Entry<K, Object> entry : states.entrySet()) {
      if (dropped >= count) {
        break;
      }
      Object state = entry.getValue();
      if (band(state, t, capacityTokens) < threshold) {
        continue;
      }
      boolean sealed;
      if (state instanceof Cell) {
        sealed = ((Cell) state).seal() != Cell.SEALED;
      } else {
        sealed = ((LockedBucket) state).retireIfIdleForEviction();
      }
      if (sealed && states.remove(entry.getKey(), state)) {
        dropped++;
      }
    }
    evicted += dropped;
  }

  private int band(Object state, long t, long capacityTokens) {
    long available;
    if (state instanceof Cell) {
      Cell cell = (Cell) state;
      long level = cell.level;
      long e = engine.epochOf(cell.epoch, t);
      if (level == Cell.SEALED) {
        return 0;
      }
      if (e < 0) {
        return 64;
      }
      available = BucketMath.tokens(engine.plan, 0, level, Math.max(t, e), e);
    } else {
      available = ((LockedBucket) state).available(t);
    }
    return (int) Math.min(64, available * 64 / capacityTokens);
  }

  @Override
  public String toString() {
    return "LocalKeyedRateLimiter[" + engine.plan.limit + ", " + states.size() + " keys]";
  }

  /** The map as the engine's slots: a missing key gets a new, full bucket. */
  private final class MapSlots implements Slots<K> {
    @Override
    public Object get(K key) {
      Object state = states.get(key);
      if (state != null) {
        return state;
      }
      long t = engine.now();
      int size = states.size();
      if (size >= sweepAt || size >= maxKeys) {
        if (size >= maxKeys) {
          makeRoom(t);
        } else if (sweepLock.tryLock()) {
          try {
            sweep(t);
          } finally {
            sweepLock.unlock();
          }
        }
      }
      return states.computeIfAbsent(key, k -> engine.newState(this, k, t));
    }

    @Override
    public Object peek(K key) {
      return states.get(key);
    }

    @Override
    public boolean replace(K key, Object expected, Object update) {
      return update == null ? states.remove(key, expected) : states.replace(key, expected, update);
    }
  }

  /** Configures a {@link KeyedRateLimiter}. */
  public static final class Builder<K> {
    private final Limit limit;
    private Clock clock = Clock.system();
    private Scheduler scheduler = Scheduler.shared();
    private int maxKeys = 1_000_000;
    private OverflowPolicy policy = OverflowPolicy.EVICT_MOST_REFILLED;

    private Builder(Limit limit) {
      this.limit = Objects.requireNonNull(limit, "limit");
    }

    public Builder<K> clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder<K> scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The most keys held at once (default 1,000,000); see the class comment for what happens beyond. */
    public Builder<K> maxKeys(int maxKeys) {
      if (maxKeys < 1) {
        throw new IllegalArgumentException("maxKeys must be at least 1, got " + maxKeys);
      }
      this.maxKeys = maxKeys;
      return this;
    }

    /** What to do at the maximum number of keys; {@link OverflowPolicy#EVICT_MOST_REFILLED} by default. */
    public Builder<K> onOverflow(OverflowPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    public LocalKeyedRateLimiter<K> build() {
      return new LocalKeyedRateLimiter<>(this);
    }
  }
}
