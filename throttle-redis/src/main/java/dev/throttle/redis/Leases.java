package dev.throttle.redis;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Leasing (opt-in): a hot key's decision asks Redis for its cost plus {@code size} tokens, and the tokens beyond its
 * cost are spent here, without a round trip, by the decisions that follow, until they run out or {@code maxHold}
 * has passed (what is left then is dropped: the limit holds with room to spare).
 *
 * <p>What it trades: every token is still granted by Redis, in order, so over any time the tokens admitted are those
 * Redis granted; but a leased token is spent later than Redis granted it. A process holds at most {@code size}
 * leased tokens of a key at any moment (one lease a key, taken only when the last is empty, expired or too small,
 * and then emptied before the next is asked for), so in any window the admissions of a key exceed the limit's bound
 * ({@code burst + rate * window}) by at most {@code size} times the number of processes.
 *
 * <p>Which keys: a key is leased from its second decision within {@code maxHold} (a key asked once in a while goes
 * to Redis alone, and wastes no lease). While a key's lease is being asked for, its other decisions wait for that
 * answer, in arrival order, and then take from the lease; those it leaves without ask for the next lease together,
 * and after {@value #MAX_ROUNDS} rounds go to Redis alone. A lease therefore serves best when its size is about the
 * decisions a key meets in one round trip, or more. When Redis refuses the lease (the
 * bucket holds less than cost plus size), the decision goes to Redis alone at once, and the key's decisions do too
 * until the wait Redis gave for the lease has passed: a key at its limit costs no more round trips than without
 * leasing. A failed lease call is answered by the failure policy, as any decision; a policy's answer is never
 * leased.
 *
 * <p>A leased decision answers with the remaining tokens of the lease's answer (Redis's, as of then) plus those the
 * lease still holds, and the reset of that answer counted down. Memory: at most {@value #MAX_KEYS} keys; beyond,
 * keys go to Redis alone. Thread-safe.
 */
final class Leases<K> {

  static final int MAX_KEYS = 100_000;

  /** Where decisions go when not leased; the limiter's paths. */
  interface Redis<K> {
    /** A decision by Redis, or by the failure policy when Redis cannot answer: never fails. */
    CompletableFuture<Decision> decide(K key, long cost);

    /** A decision by Redis, or failed when Redis cannot answer. */
    CompletableFuture<Decision> ask(K key, long cost);

    /** The failure policy's answer to a decision whose call failed. */
    Decision degraded(K key, long cost, Throwable failure);
  }

  private sealed interface Entry permits Seen, Asking, Held, Starved {}

  /** Asked once at {@code at}: the next decision within the hold asks for a lease. */
  private record Seen(long at) implements Entry {}

  /** A decision waiting for a lease call: its cost, the rounds it has waited, its answer. */
  private record Waiter(long cost, int round, CompletableFuture<Decision> answer) {}

  /** A lease call out; decisions that meet it wait in arrival order. */
  private static final class Asking implements Entry {
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>(); // guarded by this
    private boolean answered; // guarded by this

    synchronized boolean join(Waiter w) {
      if (answered) {
        return false;
      }
      waiters.add(w);
      return true;
    }

    synchronized ArrayDeque<Waiter> answered() {
      answered = true;
      return waiters;
    }
  }

  /** A lease: {@code left} tokens until {@code expires}; {@code granted} is Redis's answer at {@code at}. */
  private record Held(AtomicLong left, long expires, long at, Decision granted) implements Entry {}

  /** Redis refused a lease: decisions go alone until {@code until}. */
  private record Starved(long until) implements Entry {}

  private final long size;
  private final long maxHoldNanos;
  private final long maxCost;
  private final Clock clock;
  private final Redis<K> redis;
  private final SweptMap<K, Entry> swept;
  private final ConcurrentHashMap<K, Entry> entries;
  private final LongAdder leased = new LongAdder();

  Leases(long size, long maxHoldNanos, long maxCost, Clock clock, Redis<K> redis) {
    this.size = size;
    this.maxHoldNanos = maxHoldNanos;
    this.maxCost = maxCost;
    this.clock = clock;
    this.redis = redis;
    this.swept = new SweptMap<>(MAX_KEYS, clock, (e, now) -> e instanceof Seen s ? now - s.at >= maxHoldNanos
        : e instanceof Held h ? now - h.expires >= 0
        : e instanceof Starved s && now - s.until >= 0);
    this.entries = swept.map();
  }

  /** Decisions answered from a lease, without a round trip. */
  long leased() {
    return leased.sum();
  }

  /** Rounds a decision may wait for a lease call and find it too small, before it goes to Redis alone. */
  static final int MAX_ROUNDS = 3;

  CompletableFuture<Decision> decide(K key, long cost) {
    return decide(key, cost, 0);
  }

  private CompletableFuture<Decision> decide(K key, long cost, int round) {
    // Each pass that does not return met an entry that another decision replaced since, or a lease call answered
    // and not yet published (microseconds): a few passes, then alone.
    for (int pass = 0; pass < 4; pass++) {
      long now = clock.nanoTime();
      Entry e = entries.get(key);
      if (e instanceof Held h && now - h.expires < 0) {
        Decision d = take(h, cost, now);
        if (d != null) {
          return CompletableFuture.completedFuture(d);
        }
      } else if (e instanceof Asking a) {
        Waiter w = new Waiter(cost, round, new CompletableFuture<>());
        if (a.join(w)) {
          return w.answer;
        }
        continue;
      } else if (e instanceof Starved s && now - s.until < 0) {
        return redis.decide(key, cost);
      }
      long ask = Math.min(cost + size, maxCost);
      boolean hot = e != null && !(e instanceof Seen seen && now - seen.at >= maxHoldNanos);
      if (!hot || ask == cost) {
        if (e == null || e instanceof Seen) {
          remember(key, e, new Seen(now));
        }
        return redis.decide(key, cost);
      }
      Asking asking = new Asking();
      if (!entries.replace(key, e, asking)) {
        continue;
      }
      if (e instanceof Held h) {
        h.left.set(0); // emptied before the next lease is asked for: at most one lease's tokens held at a time
      }
      return lease(key, cost, ask, asking);
    }
    return redis.decide(key, cost);
  }

  /**
   * The lease call: {@code cost} for the decision that asks, the rest kept. When it is answered, no decision joins
   * any more; those that waited take from the lease in arrival order before it is published to later ones; those it
   * cannot serve ask again together (a later round), or go alone when the lease was refused or failed.
   */
  private CompletableFuture<Decision> lease(K key, long cost, long ask, Asking asking) {
    return redis.ask(key, ask).handle((d, failure) -> {
      long at = clock.nanoTime();
      ArrayDeque<Waiter> waiters = asking.answered();
      Held held = null;
      Decision answer;
      if (failure != null) {
        answer = redis.degraded(key, cost, failure);
      } else if (d.isAllowed()) {
        long kept = ask - cost;
        held = new Held(new AtomicLong(kept), at + maxHoldNanos, at, d);
        answer = Decision.allowed(d.remaining() + kept, d.resetNanos());
      } else {
        answer = null;
      }
      Decision[] taken = new Decision[waiters.size()];
      int i = 0;
      for (Waiter w : waiters) {
        taken[i++] = held == null ? null : take(held, w.cost, at);
      }
      if (failure != null) {
        entries.remove(key, asking);
      } else {
        entries.replace(key, asking, held != null ? held : new Starved(at + d.waitNanos()));
      }
      i = 0;
      for (Waiter w : waiters) {
        Decision t = taken[i++];
        CompletableFuture<Decision> next = t != null ? CompletableFuture.completedFuture(t)
            : held != null && w.round + 1 < MAX_ROUNDS ? decide(key, w.cost, w.round + 1)
            : redis.decide(key, w.cost);
        next.whenComplete((decision, e) -> {
          if (e != null) {
            w.answer.completeExceptionally(e);
          } else {
            w.answer.complete(decision);
          }
        });
      }
      return answer;
    }).thenCompose(answer -> answer != null ? CompletableFuture.completedFuture(answer) : redis.decide(key, cost));
  }

  private Decision take(Held h, long cost, long now) {
    long left;
    do {
      left = h.left.get();
      if (left < cost) {
        return null;
      }
    } while (!h.left.compareAndSet(left, left - cost));
    leased.increment();
    long reset = Math.max(0, h.granted.resetNanos() - (now - h.at));
    return Decision.allowed(h.granted.remaining() + left - cost, reset);
  }

  private void remember(K key, Entry old, Entry next) {
    if (old != null) {
      entries.replace(key, old, next);
    } else if (swept.hasRoom()) {
      entries.putIfAbsent(key, next);
    }
  }
}
