package dev.throttle.redis;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Reservation;
import dev.throttle.core.Scheduler;
import dev.throttle.core.internal.Waits;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link RedisRateLimiter} on the Lua script; see the interface for what it guarantees. */
final class LuaRateLimiter<K> implements RedisRateLimiter<K> {

  private static final Logger log = LoggerFactory.getLogger(RedisRateLimiter.class);


  /** With an injected clock, keys live at least this long: Redis expires them on its own clock. */
  private static final long TEST_CLOCK_MIN_TTL_MILLIS = TimeUnit.HOURS.toMillis(1);

  /** A call skipped because the circuit is open (no stack trace: it is not an error here). */
  private static final class CircuitOpenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CircuitOpenException() {
      super("circuit open: not asking Redis for a while", null, false, false);
    }
  }

  private static final CircuitOpenException CIRCUIT_OPEN = new CircuitOpenException();

  private final RedisLimits redis;
  private final Limit limit;
  private final BucketScript script;
  private final Keys<K> keys;
  private final long timeoutNanos;
  private final FailurePolicy policy;
  private final Circuit circuit;
  private final Deadlines deadlines;
  private final long closedWaitNanos;
  private final Clock clock; // null: Redis TIME
  private final long minTtlMillis;
  private final Scheduler scheduler;
  private final KeyedRateLimiter<K> local; // the LOCAL policy's limiter, else null
  private final ShortCircuit<K> shortCircuit; // null unless enabled
  private final Leases<K> leases; // null unless enabled
  private final Decision fullBucketOne; // fail-open's answer to a cost of 1, the common one
  private final boolean cluster; // batches hold the keys of one slot
  private final DegradedLog degradedLog = new DegradedLog(log);

  private final LongAdder fromRedis = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder skipped = new LongAdder();
  private final LongAdder shortCircuited = new LongAdder();
  private final LongAdder late = new LongAdder();

  LuaRateLimiter(Builder<K> b) {
    this.redis = b.redis;
    this.limit = b.limit;
    this.script = new BucketScript(b.limit);
    this.keys = new Keys<>(b.prefix, b.limit, b.encoder);
    this.timeoutNanos = Waits.maxWaitNanos(b.timeout);
    this.policy = b.failurePolicy;
    this.closedWaitNanos = Waits.maxWaitNanos(b.circuitOpen);
    this.circuit = new Circuit(b.circuitFailures, closedWaitNanos);
    this.deadlines = new Deadlines(timeoutNanos, Scheduler.shared());
    this.clock = b.clock;
    if (b.clock != null) {
      long micros = nowMicros();
      if (micros < 0 || micros >= BucketScript.MAX_CREDITS * 2) {
        throw new IllegalArgumentException("the clock " + b.clock + " reads the Unix time " + micros
            + " us; Redis counts exactly only from 1970 to 2112 (0 to 2^52 us): give the clock a Unix time"
            + " (for a ManualClock: new ManualClock(start, unixNanosAtStart))");
      }
    }
    this.minTtlMillis = b.clock == null ? 0 : TEST_CLOCK_MIN_TTL_MILLIS;
    this.scheduler = b.scheduler;
    Limit localLimit = policy.localLimit(limit);
    Clock localClock = b.clock == null ? Clock.system() : b.clock;
    this.local = localLimit == null ? null
        : KeyedRateLimiter.<K>builder(localLimit).clock(localClock).scheduler(b.scheduler).build();
    this.shortCircuit = b.shortCircuit ? new ShortCircuit<>(localClock) : null;
    this.leases = b.leaseTokens == 0 ? null : new Leases<>(b.leaseTokens, Waits.maxWaitNanos(b.leaseMaxHold),
        limit.burst(), localClock, new Leases.Redis<>() {
          @Override
          public CompletableFuture<Decision> decide(K key, long cost) {
            return alone(key, cost);
          }

          @Override
          public CompletableFuture<Decision> ask(K key, long cost) {
            return batched(key, cost);
          }

          @Override
          public Decision degraded(K key, long cost, Throwable failure) {
            return degradedDecision(key, cost, failure, true);
          }
        });
    this.fullBucketOne = fullBucket(1);
    this.cluster = b.redis.isCluster();
  }

  @Override
  public Limit limit() {
    return limit;
  }

  @Override
  public Decision decide(K key, long cost) {
    return decideAsync(key, cost).join();
  }

  @Override
  public Decision estimate(K key, long cost) {
    return estimateAsync(key, cost).join();
  }

  @Override
  public Reservation reserve(K key, long cost, Duration maxWait) {
    return reserveAsync(key, cost, maxWait).join();
  }

  @Override
  public CompletableFuture<Decision> decideAsync(K key, long cost) {
    limit.checkCost(cost);
    Objects.requireNonNull(key, "key");
    if (shortCircuit != null) {
      Decision refused = shortCircuit.refusal(key, cost, 0);
      if (refused != null) {
        shortCircuited.increment();
        return CompletableFuture.completedFuture(refused);
      }
    }
    return leases != null ? leases.decide(key, cost) : alone(key, cost);
  }

  /** One decision of its own (batched with others only when calls queue), degraded when Redis cannot answer. */
  private CompletableFuture<Decision> alone(K key, long cost) {
    return batched(key, cost)
        .handle((decision, failure) -> {
          if (failure != null) {
            return degradedDecision(key, cost, failure, true);
          }
          remember(key, cost, decision);
          return decision;
        });
  }

  @Override
  public CompletableFuture<Decision> estimateAsync(K key, long cost) {
    limit.checkCost(cost);
    Objects.requireNonNull(key, "key");
    return call(keys.of(key), script.args(BucketScript.ESTIMATE, cost, nowMicros(), minTtlMillis, 0))
        .handle((result, failure) -> failure != null
            ? degradedDecision(key, cost, failure, false)
            : result.decision());
  }

  /**
   * The script's decision, with the Redis time it was made at if {@code withTime}, or a failure (not degraded): one
   * round trip.
   */
  CompletableFuture<BucketScript.Result> decideInRedis(K key, long cost, boolean withTime) {
    limit.checkCost(cost);
    int op = withTime ? BucketScript.DECIDE_TIMED : BucketScript.DECIDE;
    return call(keys.of(key), script.args(op, cost, nowMicros(), minTtlMillis, 0));
  }

  /** Several decisions in one call, as a batch goes (for tests that compare both paths). */
  CompletableFuture<Decision[]> decideManyInRedis(List<K> forKeys, long[] costs) {
    List<byte[][]> keyGroups = new ArrayList<>();
    for (int i = 0; i < costs.length; i++) {
      limit.checkCost(costs[i]);
      keyGroups.add(keys.of(forKeys.get(i)));
    }
    return callMany(keyGroups, costs, true);
  }

  /** One call of {@link BucketScript#DECIDE_MANY}: decision i on the keys {@code keyGroups.get(i)}, at costs[i]. */
  private CompletableFuture<Decision[]> callMany(List<byte[][]> keyGroups, long[] costs, boolean counted) {
    byte[][] redisKeys = new byte[costs.length * script.buckets][];
    for (int i = 0; i < costs.length; i++) {
      System.arraycopy(keyGroups.get(i), 0, redisKeys, i * script.buckets, script.buckets);
    }
    return call(redisKeys, script.manyArgs(costs, costs.length, nowMicros(), minTtlMillis), costs.length, counted,
        reply -> script.parseMany(reply, costs.length));
  }

  @Override
  public CompletableFuture<Reservation> reserveAsync(K key, long cost, Duration maxWait) {
    limit.checkCost(cost);
    long maxWaitNanos = Waits.maxWaitNanos(maxWait);
    Objects.requireNonNull(key, "key");
    if (shortCircuit != null) {
      Decision refused = shortCircuit.refusal(key, cost, maxWaitNanos);
      if (refused != null) {
        shortCircuited.increment();
        return CompletableFuture.completedFuture(Reservation.notGranted(refused));
      }
    }
    byte[][] redisKeys = keys.of(key);
    return call(redisKeys, script.args(BucketScript.RESERVE, cost, nowMicros(), minTtlMillis, maxWaitNanos))
        .handle((result, failure) -> {
          if (failure != null) {
            return degradedReservation(key, cost, maxWaitNanos, failure);
          }
          Decision decision = result.decision();
          return switch (result.flag()) {
            case BucketScript.ALLOWED -> Reservation.ready(decision);
            case BucketScript.RESERVED -> new RedisReservation(decision,
                () -> giveBack(redisKeys, result.before(), result.after())).start(scheduler);
            default -> {
              remember(key, cost, decision);
              yield Reservation.notGranted(decision);
            }
          };
        });
  }

  @Override
  public Cancellation cancellation() {
    return Cancellation.IF_LAST;
  }

  @Override
  public Stats stats() {
    long t = timeouts.sum();
    long e = errors.sum();
    long s = skipped.sum();
    return new Stats(fromRedis.sum(), t + e + s, t, e, s, shortCircuited.sum(), circuit.isOpen(), late.sum(),
        leases == null ? 0 : leases.leased());
  }

  @Override
  public String toString() {
    return "RedisRateLimiter[" + limit + ", " + redis + ", on failure " + policy + "]";
  }

  // ---- the round trip ----

  /**
   * One script call in flight. The first to settle it, the reply or the deadline, wins; the circuit and the counts
   * hear about it before anyone waiting on the future does (so {@link #stats()} read after a decision includes it).
   * A call of {@code weight} decisions answered by Redis is counted by the caller (each decision may have timed out
   * on its own), except when Redis answers after the deadline: then all of them are late.
   */
  private final class Call<T> extends CompletableFuture<T> {
    private final AtomicBoolean settled = new AtomicBoolean();
    private final int weight;
    private final boolean counted;

    Call(int weight, boolean counted) {
      this.weight = weight;
      this.counted = counted;
    }

    @Override
    public boolean complete(T result) {
      if (!settled.compareAndSet(false, true)) {
        late.add(weight); // the deadline settled it first: Redis answered, too late
        return false;
      }
      circuit.success();
      if (counted) {
        fromRedis.add(weight);
      }
      return super.complete(result);
    }

    @Override
    public boolean completeExceptionally(Throwable e) {
      if (!settled.compareAndSet(false, true)) {
        return false;
      }
      circuit.failure();
      return super.completeExceptionally(e);
    }
  }

  /** One script call of one decision (or reservation, or estimate), answered within the timeout or failed. */
  private CompletableFuture<BucketScript.Result> call(byte[][] redisKeys, byte[][] args) {
    return call(redisKeys, args, 1, true, script::parse);
  }

  /**
   * One script call, answered within the timeout or failed; a failure is never an exception thrown here.
   * {@code counted}: the call counts its {@code weight} decisions as answered by Redis when it is answered in time.
   */
  private <T> CompletableFuture<T> call(byte[][] redisKeys, byte[][] args, int weight, boolean counted,
      Function<List<Object>, T> parse) {
    if (!circuit.tryPass()) {
      return CompletableFuture.failedFuture(CIRCUIT_OPEN);
    }
    Call<T> out = new Call<>(weight, counted);
    deadlines.watch(out);
    try {
      redis.eval(redisKeys, args, (reply, e) -> {
        if (e != null) {
          out.completeExceptionally(e);
          return;
        }
        T result;
        try {
          result = parse.apply(reply);
        } catch (RuntimeException bad) {
          out.completeExceptionally(bad);
          return;
        }
        out.complete(result);
      });
    } catch (RuntimeException e) {
      out.completeExceptionally(e);
    }
    return out;
  }

  // ---- batching decisions ----

  /** The most decisions one batched call carries (the rest wait for the next). */
  static final int MAX_BATCH = 128;

  /** Decision calls in flight at most; decisions arriving beyond it wait and go together when one is answered. */
  static final int MAX_CALLS_IN_FLIGHT = 4;

  /**
   * Decisions wait here while {@link #MAX_CALLS_IN_FLIGHT} decision calls are out; when one is answered, those
   * waiting go together as one script call ({@link BucketScript#DECIDE_MANY}, one per Cluster slot), decided in the
   * order they arrived, each against what the ones before it left (a key may come several times): the answers are
   * those of as many single calls in that order, and under load a call carries many decisions instead of one. With
   * fewer calls out, a decision goes at once, alone, as before. Guarded by itself.
   */
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();

  private int callsInFlight; // guarded by waiting

  /** One decision asked for; its slot is completed by Redis's answer, or failed by its own deadline. */
  private final class Pending {
    final long cost;
    final byte[][] redisKeys;
    final CompletableFuture<Decision> slot = new CompletableFuture<>();

    Pending(K key, long cost) {
      this.cost = cost;
      this.redisKeys = keys.of(key);
    }
  }

  private CompletableFuture<Decision> batched(K key, long cost) {
    Pending p = new Pending(key, cost);
    deadlines.watch(p.slot); // its own timeout, from now: also while it waits for a call to come back
    boolean go;
    synchronized (waiting) {
      go = callsInFlight < MAX_CALLS_IN_FLIGHT;
      if (go) {
        callsInFlight++;
      } else {
        waiting.add(p);
      }
    }
    if (go) {
      send(List.of(p));
    }
    return p.slot;
  }

  /** Sends a batch (one Cluster slot), then the next one when it is answered, while decisions are waiting. */
  private void send(List<Pending> batch) {
    while (batch != null) {
      List<Pending> b = batch;
      CompletableFuture<Decision[]> answer;
      if (b.size() == 1) {
        Pending p = b.get(0);
        answer = call(p.redisKeys, script.args(BucketScript.DECIDE, p.cost, nowMicros(), minTtlMillis, 0), 1, false,
            reply -> new Decision[] {script.parse(reply).decision()});
      } else {
        long[] costs = new long[b.size()];
        List<byte[][]> keyGroups = new ArrayList<>(b.size());
        for (int i = 0; i < costs.length; i++) {
          costs[i] = b.get(i).cost;
          keyGroups.add(b.get(i).redisKeys);
        }
        answer = callMany(keyGroups, costs, false);
      }
      if (!answer.isDone()) {
        answer.whenComplete((decisions, failure) -> {
          settle(b, decisions, failure);
          List<Pending> next = next();
          if (next != null) {
            send(next);
          }
        });
        return;
      }
      // answered at once (the circuit is open): no recursion, whatever keeps arriving
      if (answer.isCompletedExceptionally()) {
        settle(b, null, failureOf(answer));
      } else {
        settle(b, answer.join(), null);
      }
      batch = next();
    }
  }

  private static Throwable failureOf(CompletableFuture<?> failed) {
    try {
      failed.join();
      return new IllegalStateException("not failed");
    } catch (java.util.concurrent.CompletionException e) {
      return e.getCause();
    } catch (java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  private void settle(List<Pending> batch, Decision[] decisions, Throwable failure) {
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      if (failure != null) {
        p.slot.completeExceptionally(failure);
      } else if (p.slot.isDone()) {
        late.increment(); // its own deadline passed while the call was out: decided by the failure policy
      } else {
        fromRedis.increment();
        if (!p.slot.complete(decisions[i])) {
          fromRedis.decrement();
          late.increment();
        }
      }
    }
  }

  /**
   * The next batch for the call slot just freed: the decisions waiting, in order, up to {@link #MAX_BATCH}, of the
   * first one's Cluster slot (decisions whose deadline has passed are left out); or null, and the call slot is free.
   */
  private List<Pending> next() {
    synchronized (waiting) {
      List<Pending> next = new ArrayList<>();
      int slot = -1;
      for (var it = waiting.iterator(); it.hasNext() && next.size() < MAX_BATCH; ) {
        Pending p = it.next();
        if (p.slot.isDone()) {
          it.remove();
          continue;
        }
        int s = cluster ? SlotHash.getSlot(p.redisKeys[0]) : 0;
        if (slot < 0) {
          slot = s;
        }
        if (s == slot) {
          it.remove();
          next.add(p);
        } else if (!cluster) {
          break;
        }
      }
      if (next.isEmpty()) {
        callsInFlight--;
        return null;
      }
      return grouped(next);
    }
  }

  /**
   * The batch with each key's decisions together, keys in the order of their first decision, each key's decisions
   * in their order: decisions on different keys do not meet, so the answers are the same, and the script reads and
   * writes a key once for its run of decisions instead of once per decision.
   */
  private List<Pending> grouped(List<Pending> batch) {
    if (batch.size() < 3) {
      return batch;
    }
    java.util.LinkedHashMap<java.nio.ByteBuffer, List<Pending>> byKey = new java.util.LinkedHashMap<>();
    for (Pending p : batch) {
      byKey.computeIfAbsent(java.nio.ByteBuffer.wrap(p.redisKeys[0]), k -> new ArrayList<>(2)).add(p);
    }
    if (byKey.size() == batch.size() || byKey.size() == 1) {
      return batch;
    }
    List<Pending> out = new ArrayList<>(batch.size());
    byKey.values().forEach(out::addAll);
    return out;
  }

  /**
   * Gives a cancelled reservation's tokens back if its keys still hold what it wrote: true if they went back, false
   * if a later reservation keeps them spent or Redis could not be asked (which never breaks the limit).
   */
  private CompletableFuture<Boolean> giveBack(byte[][] redisKeys, byte[][] before, byte[][] after) {
    if (!circuit.tryPass()) {
      return CompletableFuture.completedFuture(false); // Redis is away: the tokens stay spent
    }
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    deadlines.watch(done);
    done.whenComplete((r, e) -> {
      if (e == null) {
        circuit.success();
      } else {
        circuit.failure();
        degradedLog.warn("could not give a cancelled reservation's tokens back to Redis (they stay spent)", e);
      }
    });
    try {
      redis.eval(redisKeys, script.cancelArgs(nowMicros(), minTtlMillis, before, after), (reply, e) -> {
        if (e != null) {
          done.completeExceptionally(e);
        } else {
          done.complete(reply != null && reply.size() == 1 && Long.valueOf(1).equals(reply.get(0)));
        }
      });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  /** -1 for Redis TIME; with an injected clock, its Unix time in microseconds (boundaries as in the core). */
  private long nowMicros() {
    return clock == null ? -1 : Math.floorDiv(clock.unixNanosAt(clock.nanoTime()), 1000);
  }

  private void remember(K key, long cost, Decision decision) {
    if (shortCircuit != null && !decision.isAllowed()) {
      shortCircuit.remember(key, cost, decision);
    }
  }

  // ---- the failure policy ----

  /** The policy's decision; {@code take}: false for an estimate, which takes nothing from the local limiter either. */
  private Decision degradedDecision(K key, long cost, Throwable failure, boolean take) {
    count(failure);
    return switch (policy.kind) {
      case OPEN -> cost == 1 ? fullBucketOne : fullBucket(cost);
      case CLOSED -> closedRefusal();
      case LOCAL -> cost > local.limit().burst() ? closedRefusal()
          : take ? local.decide(key, cost) : local.estimate(key, cost);
    };
  }

  private Reservation degradedReservation(K key, long cost, long maxWaitNanos, Throwable failure) {
    count(failure);
    return switch (policy.kind) {
      case OPEN -> Reservation.ready(cost == 1 ? fullBucketOne : fullBucket(cost));
      case CLOSED -> Reservation.notGranted(closedRefusal());
      case LOCAL -> cost <= local.limit().burst()
          ? local.reserve(key, cost, Duration.ofNanos(maxWaitNanos))
          : Reservation.notGranted(closedRefusal());
    };
  }

  private void count(Throwable failure) {
    Throwable cause = DegradedLog.unwrap(failure);
    if (cause instanceof CircuitOpenException) {
      skipped.increment();
      return; // logged when it opened
    }
    if (cause instanceof TimeoutException) {
      timeouts.increment();
      degradedLog.warn("Redis did not answer within " + Duration.ofNanos(timeoutNanos) + "; deciding " + policy,
          cause);
    } else {
      errors.increment();
      degradedLog.warn("Redis failed; deciding " + policy, cause);
    }
  }

  /** Fail-open: what a full bucket (a key seen for the first time) answers; built afresh, so kept for a cost of 1. */
  private Decision fullBucket(long cost) {
    return RateLimiter.builder(limit).clock(() -> 0L).scheduler(scheduler).build().decide(cost);
  }

  private Decision closedRefusal() {
    return Decision.refused(0, closedWaitNanos, closedWaitNanos);
  }
}
