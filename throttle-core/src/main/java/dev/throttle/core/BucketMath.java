package dev.throttle.core;

import java.math.BigInteger;

/**
 * The token bucket, as a function of (state, now, cost). Everything else in Throttle (waiting, keys, HTTP, retries,
 * Redis) is built on this and never re-implements it.
 *
 * <h2>How is the bucket designed, and why?</h2>
 *
 * A bucket holds up to {@code capacity} tokens and gains {@code amount} tokens every {@code period}. A request of
 * cost {@code c} passes if the bucket holds {@code c} tokens, and takes them. Implementations usually store the
 * token count and the time of the last refill, and refill with floating point (drifting, and inexact for rates such
 * as 3/s) or with a refill thread (which the seeds show delivering 116/s when asked for 100/s). Throttle stores
 * neither: it stores one integer, the <em>level</em>, and computes tokens from time, exactly.
 *
 * <h3>Credits: exact integers for any rate</h3>
 *
 * Write the rate in lowest terms, {@code amount/period = a/p} tokens per nanosecond (3/s is 3/10^9). Count in
 * <em>credits</em>: one nanosecond is worth {@code a} credits and one token costs {@code p} credits. Then the
 * credits produced in {@code t} nanoseconds, {@code z(t) = t * a}, are an exact integer, and so is everything
 * below: no floating point, no rounding, no drift, for 3/s as for 10^9/s.
 *
 * <h3>The level</h3>
 *
 * <pre>
 *   credits
 *     ^                          z(t) = credits produced since the epoch
 *     |                      ___/
 *     |                  ___/ |   tokens available = (z(t) - level) / p,  at most capacity
 *     |              ___/     |
 *     |          ___/ ------- level: credits consumed so far (plus the initial burst)
 *     |      ___/
 *     +---------------------------------> t
 * </pre>
 *
 * The state is {@code level}, the credits consumed since the bucket's epoch, where a full bucket at the epoch
 * has {@code level = -capacity}. At time {@code t}:
 *
 * <pre>
 *   base  = max(level, z(t) - capacity)     // a bucket holds no more than its capacity
 *   next  = base + c * p
 *   allow = next &lt;= z(t)                      // then level := next, else level is unchanged
 * </pre>
 *
 * This is the generic cell rate algorithm (GCRA) in exact integer units: {@code level + capacity} is the
 * "theoretical arrival time" of the next request, in credits. For one bucket it is one {@code long}, so the
 * in-process limiter decides with one compare-and-set.
 *
 * <h3>The bound, and why it holds</h3>
 *
 * In every window {@code (t1, t2]} a greedy bucket grants at most {@code capacity + floor(rate * (t2 - t1))}
 * tokens. Every grant in the window starts at a level of at least {@code z(t1) - capacity} (the {@code max} above
 * only raises it) and ends at a level of at most {@code z(t2)}; so the tokens granted are at most
 * {@code (z(t2) - z(t1) + capacity) / p = capacity + (t2 - t1) * a / p}, and being whole, at most the floor of
 * that. The property tests check this for random request sequences.
 *
 * <h3>Interval refill</h3>
 *
 * With interval refill (the seeds' {@code refill_interval}), {@code k = amount * interval / period} whole tokens
 * arrive at each interval boundary: {@code z(t) = k * floor((t + phase) / interval)}, one credit per token.
 * Boundaries are multiples of the interval in Unix time ({@code phase} is the Unix time at the limiter's creation
 * modulo the interval, from {@link Clock#unixNanosAt}): a limiter created at any moment, in any process, and the
 * Redis script on Redis's {@code TIME}, all refill at the same instants, so that two processes sharing a quota in
 * chunks agree when a chunk arrives, and a key dropped and created again (a full bucket is forgotten) refills on
 * the same grid. Everything else is the same. Its bound counts boundaries: at most
 * {@code capacity + k * (boundaries in the window)}.
 *
 * <h3>Several buckets</h3>
 *
 * {@code 10/s and 1000/h} passes only if every bucket allows, and then takes from all of them, so none of them
 * ever grants beyond its own bound.
 *
 * <h3>Epochs</h3>
 *
 * Levels are relative to an epoch {@code e} (a multiple of the plan's quantum, counted from the limiter's
 * creation) so that {@code (t - e) * a} never overflows, whatever the rate and however long the process runs; the
 * limiter moves a bucket to a newer epoch when a quantum has passed ({@link #shift}). Clock values themselves may
 * be anything: the limiter subtracts its creation time first, as with {@link System#nanoTime()}.
 *
 * <h3>What the four numbers of a {@link Decision} are</h3>
 *
 * <ul>
 *   <li>remaining: whole tokens left after the decision, {@code (z(t) - level) / p} (the fewest over the buckets);
 *   <li>wait: 0 when allowed; otherwise the time until {@code z} reaches {@code next} (the longest over the buckets);
 *   <li>reset: the time until the bucket is full again, when {@code z - capacity} reaches the level.
 * </ul>
 *
 * The same numbers answer the questions that take nothing: the tokens there now ({@link #available}), when a bucket
 * is full again ({@link #fullAt}), and what a request would be answered ({@link #estimate}). Nothing else in
 * Throttle derives them.
 *
 * All methods are static, pure and total over valid inputs: {@code t >= e}, levels between
 * {@code -capacity} and {@code z(t)}, costs between 1 and the plan's {@link Plan#maxCost}.
 */
final class BucketMath {

  private BucketMath() {}

  /** Credits bucket {@code j} has produced between the epoch {@code e} and time {@code t} (both since creation). */
  static long produced(Plan plan, int j, long t, long e) {
    long interval = plan.interval[j];
    if (interval == 0) {
      return (t - e) * plan.rate[j];
    }
    return plan.rate[j] * boundariesBetween(plan, j, e, t);
  }

  /** Interval boundaries in {@code (e, t]}: multiples of the interval in Unix time ({@code t + phase}). */
  private static long boundariesBetween(Plan plan, int j, long e, long t) {
    long interval = plan.interval[j];
    long phase = plan.phase[j];
    return (t + phase) / interval - (e + phase) / interval;
  }

  /** Like {@link #produced}, but saturating instead of overflowing, for estimates far in the future. */
  static long producedSaturated(Plan plan, int j, long t, long e) {
    long interval = plan.interval[j];
    if (interval == 0) {
      return Math.min(saturatedMultiply(t - e, plan.rate[j]), Long.MAX_VALUE / 4);
    }
    return plan.rate[j] * boundariesBetween(plan, j, e, t);
  }

  /**
   * The earliest time (since creation) at which bucket {@code j} has produced {@code target} credits since the
   * epoch {@code e}; saturates near {@code Long.MAX_VALUE / 2} for targets too far away to matter.
   */
  static long timeWhen(Plan plan, int j, long target, long e) {
    long interval = plan.interval[j];
    long rate = plan.rate[j];
    if (interval == 0) {
      return Math.min(saturatedAdd(e, ceilDiv(target, rate)), Long.MAX_VALUE / 2);
    }
    long phase = plan.phase[j];
    long boundaries = saturatedAdd(ceilDiv(target, rate), (e + phase) / interval);
    return Math.min(saturatedAdd(saturatedMultiply(boundaries, interval), -phase), Long.MAX_VALUE / 2);
  }

  /**
   * The level of bucket {@code j} after a request of {@code cost} at time {@code t}, or {@link Long#MIN_VALUE} when
   * the bucket does not hold {@code cost} tokens. This is the whole algorithm for one bucket.
   */
  static long take(Plan plan, int j, long level, long t, long e, long cost) {
    return take(level, produced(plan, j, t, e), plan.capacity[j], cost * plan.unit[j]);
  }

  /**
   * {@link #take(Plan, int, long, long, long, long)} with the bucket's numbers already worked out: {@code z} credits
   * produced, {@code capacity} and {@code credits} (the cost) in credits. The lock-free path calls this directly.
   */
  static long take(long level, long z, long capacity, long credits) {
    long next = Math.max(level, z - capacity) + credits;
    return next <= z ? next : Long.MIN_VALUE;
  }

  /**
   * Whole tokens bucket {@code j} at {@code level} holds at {@code t}: {@code (z(t) - max(level, z(t) - capacity)) / p}
   * (0 for a level above {@code z(t)}, written by a thread whose clock reading was later than {@code t}).
   */
  static long tokens(Plan plan, int j, long level, long t, long e) {
    long z = produced(plan, j, t, e);
    return Math.max(0, z - Math.max(level, z - plan.capacity[j])) / plan.unit[j];
  }

  /** Whole tokens a request could take at {@code t}: the fewest over the buckets (a decision's "remaining" before it). */
  static long available(Plan plan, long[] levels, long t, long e) {
    long min = Long.MAX_VALUE;
    for (int j = 0; j < plan.n; j++) {
      min = Math.min(min, tokens(plan, j, levels[j], t, e));
    }
    return min;
  }

  /** The time (since creation) at which bucket {@code j} at {@code level} is full again: the reset's end. */
  static long fullAt(Plan plan, int j, long level, long e) {
    return timeWhen(plan, j, level + plan.capacity[j], e);
  }

  /** {@link #decide} without taking anything: what a request of {@code cost} would be answered at {@code t}. */
  static Decision estimate(Plan plan, long[] levels, long t, long e, long cost) {
    return decide(plan, levels.clone(), t, e, cost);
  }

  /**
   * A change of limit: the levels, in plan {@code to} at epoch {@code e2}, of buckets that hold at {@code t} the
   * tokens {@code levels} (plan {@code from}, epoch {@code e}) hold then. Bucket {@code k} of the new limit takes the
   * tokens of bucket {@code k} of the old one when both have as many buckets, otherwise the fewest that any old
   * bucket holds; never more than its own burst. Exact, but for a fraction of a new credit, rounded down: the whole
   * tokens carried are exactly the whole tokens held, capped at the burst.
   */
  static long[] carry(Plan from, long[] levels, long t, long e, Plan to, long e2) {
    long[] credits = new long[from.n];
    int fewest = 0;
    for (int j = 0; j < from.n; j++) {
      long z = produced(from, j, t, e);
      credits[j] = Math.max(0, z - Math.max(levels[j], z - from.capacity[j]));
      if (BigInteger.valueOf(credits[j]).multiply(BigInteger.valueOf(from.unit[fewest]))
          .compareTo(BigInteger.valueOf(credits[fewest]).multiply(BigInteger.valueOf(from.unit[j]))) < 0) {
        fewest = j;
      }
    }
    long[] out = new long[to.n];
    for (int k = 0; k < to.n; k++) {
      int j = from.n == to.n ? k : fewest;
      long carried = BigInteger.valueOf(credits[j]).multiply(BigInteger.valueOf(to.unit[k]))
          .divide(BigInteger.valueOf(from.unit[j])).min(BigInteger.valueOf(to.capacity[k])).longValueExact();
      out[k] = produced(to, k, t, e2) - carried;
    }
    return out;
  }

  /** The level of a full bucket {@code j} at time {@code t}, for epoch {@code e}. */
  static long fullLevel(Plan plan, int j, long t, long e) {
    return produced(plan, j, t, e) - plan.capacity[j];
  }

  /**
   * A new state: every bucket full, from the epoch on. (A level of {@code -capacity} is full at the epoch and, being
   * clamped, at every later time; a state made "full at t" would look slightly less than full to a thread whose
   * clock reading is a moment older than t, and a burst on a new key could lose a token to that.)
   */
  static long[] full(Plan plan) {
    long[] levels = new long[plan.n];
    for (int j = 0; j < plan.n; j++) {
      levels[j] = -plan.capacity[j];
    }
    return levels;
  }

  /** Whether every bucket holds {@code cost} tokens at {@code t}. */
  static boolean allows(Plan plan, long[] levels, long t, long e, long cost) {
    for (int j = 0; j < plan.n; j++) {
      if (take(plan, j, levels[j], t, e, cost) == Long.MIN_VALUE) {
        return false;
      }
    }
    return true;
  }

  /**
   * Decides a request of {@code cost} at {@code t}: when every bucket allows, takes the tokens from all of them,
   * writing the new levels into {@code levels}; otherwise leaves {@code levels} as they were. Returns the
   * {@link Decision} with its four numbers.
   */
  static Decision decide(Plan plan, long[] levels, long t, long e, long cost) {
    boolean allowed = allows(plan, levels, t, e, cost);
    long remaining = Long.MAX_VALUE;
    long wait = 0;
    long reset = 0;
    for (int j = 0; j < plan.n; j++) {
      long z = produced(plan, j, t, e);
      long base = Math.max(levels[j], z - plan.capacity[j]);
      long after = allowed ? base + cost * plan.unit[j] : base;
      if (allowed) {
        levels[j] = after;
      } else {
        wait = Math.max(wait, timeWhen(plan, j, base + cost * plan.unit[j], e) - t);
      }
      // A level above z(t) means another thread decided at a later clock reading than this one's t: none left.
      remaining = Math.min(remaining, Math.max(0, z - after) / plan.unit[j]);
      reset = Math.max(reset, fullAt(plan, j, after, e) - t);
    }
    return allowed ? Decision.allowed(remaining, reset) : Decision.refused(remaining, wait, reset);
  }

  /**
   * The decision for a request that must queue behind others: {@code levels} are the simulated levels after the
   * last request ahead is granted at {@code after}; the wait runs until this request could be granted behind it.
   */
  static Decision queued(Plan plan, long[] levels, long t, long after, long e, long cost) {
    long due = dueAfter(plan, levels, after, e, cost);
    long reset = 0;
    for (int j = 0; j < plan.n; j++) {
      long end = Math.max(levels[j], producedSaturated(plan, j, due, e) - plan.capacity[j]) + cost * plan.unit[j];
      reset = Math.max(reset, saturatedAdd(timeWhen(plan, j, saturatedAdd(end, plan.capacity[j]), e), -t));
    }
    return Decision.refused(0, Math.max(1, due - t), reset);
  }

  /**
   * The earliest time, not before {@code notBefore}, at which a request of {@code cost} could be granted from
   * {@code levels}. (The {@code max} with {@code z - capacity} never matters here, because a cost never exceeds a
   * capacity: the request passes once {@code z} reaches {@code level + cost}.)
   */
  static long dueAfter(Plan plan, long[] levels, long notBefore, long e, long cost) {
    long due = notBefore;
    for (int j = 0; j < plan.n; j++) {
      due = Math.max(due, timeWhen(plan, j, saturatedAdd(levels[j], cost * plan.unit[j]), e));
    }
    return due;
  }

  /** Simulates granting {@code cost} at {@code due}: the levels afterwards, written into {@code levels}. */
  static void simulateGrant(Plan plan, long[] levels, long due, long e, long cost) {
    for (int j = 0; j < plan.n; j++) {
      levels[j] = saturatedAdd(Math.max(levels[j], producedSaturated(plan, j, due, e) - plan.capacity[j]),
          cost * plan.unit[j]);
    }
  }

  /**
   * Moves the levels from epoch {@code e} to the later epoch {@code e2}: subtracts the credits produced between the
   * two, saturating (after a long idle time the product may overflow, and the bucket is then full anyway), and
   * keeps no bucket fuller than full at {@code e2}. (Clamping at {@code e2} rather than at the current time leaves
   * waiters whose due time fell before {@code e2} their exact due-time decision.)
   */
  static void shift(Plan plan, long[] levels, long e, long e2) {
    for (int j = 0; j < plan.n; j++) {
      long produced = plan.interval[j] == 0 ? saturatedMultiply(e2 - e, plan.rate[j]) : produced(plan, j, e2, e);
      levels[j] = Math.max(saturatedAdd(levels[j], -produced), -plan.capacity[j]);
    }
  }

  /** Whether every bucket is full at {@code t}: such a state is indistinguishable from a new one. */
  static boolean isFull(Plan plan, long[] levels, long t, long e) {
    for (int j = 0; j < plan.n; j++) {
      if (levels[j] > fullLevel(plan, j, t, e)) {
        return false;
      }
    }
    return true;
  }

  static long ceilDiv(long x, long y) {
    return -Math.floorDiv(-x, y);
  }

  static long saturatedMultiply(long x, long y) {
    long low = x * y;
    if (Math.multiplyHigh(x, y) != (low >> 63)) {
      return (x < 0) == (y < 0) ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return low;
  }

  static long saturatedAdd(long x, long y) {
    long r = x + y;
    if (((x ^ r) & (y ^ r)) < 0) {
      return x < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    return r;
  }
}
