package dev.throttle.redis;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Reservation;
import dev.throttle.core.Scheduler;
import dev.throttle.core.internal.Waits;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
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

  private static final CompletableFuture<BucketScript.Result> CIRCUIT_OPEN =
      CompletableFuture.failedFuture(new CircuitOpenException());

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
  private final Decision fullBucketOne; // fail-open's answer to a cost of 1, the common one
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
    this.fullBucketOne = fullBucket(1);
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
    return decideInRedis(key, cost, false)
        .handle((result, failure) -> {
          if (failure != null) {
            return degradedDecision(key, cost, failure, true);
          }
          remember(key, cost, result.decision());
          return result.decision();
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
    return new Stats(fromRedis.sum(), t + e + s, t, e, s, shortCircuited.sum(), circuit.isOpen(), late.sum());
  }

  @Override
  public String toString() {
    return "RedisRateLimiter[" + limit + ", " + redis + ", on failure " + policy + "]";
  }

  // ---- the round trip ----

  /**
   * One script call in flight. The first to settle it, the reply or the deadline, wins; the circuit and the counts
   * hear about it before anyone waiting on the future does (so {@link #stats()} read after a decision includes it).
   */
  private final class Call extends CompletableFuture<BucketScript.Result> {
    private final AtomicBoolean settled = new AtomicBoolean();

    @Override
    public boolean complete(BucketScript.Result result) {
      if (!settled.compareAndSet(false, true)) {
        late.increment(); // the deadline settled it first: Redis answered, too late
        return false;
      }
      circuit.success();
      fromRedis.increment();
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

  /** One script call, answered within the timeout or failed; a failure is never an exception thrown here. */
  private CompletableFuture<BucketScript.Result> call(byte[][] redisKeys, byte[][] args) {
    if (!circuit.tryPass()) {
      return CIRCUIT_OPEN;
    }
    Call out = new Call();
    deadlines.watch(out);
    try {
      redis.eval(redisKeys, args, (reply, e) -> {
        if (e != null) {
          out.completeExceptionally(e);
          return;
        }
        BucketScript.Result result;
        try {
          result = script.parse(reply);
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
