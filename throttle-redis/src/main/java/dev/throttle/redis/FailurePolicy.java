package dev.throttle.redis;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Limit;
import java.util.Objects;

/**
 * What a {@link RedisRateLimiter} answers when Redis cannot: unreachable, slower than the limiter's timeout,
 * answering with an error, or skipped while the limiter's circuit is open. Chosen by the user; every such
 * <em>degraded</em> decision is counted ({@link RedisRateLimiter#stats()}) and logged (at most a line every 10
 * seconds). Immutable.
 *
 * <ul>
 *   <li>{@link #failOpen()}: allow, as a full bucket would (remaining and reset as for a key seen for the first
 *       time). The API stays up and unprotected.
 *   <li>{@link #failClosed()}: refuse, with a wait until the limiter tries Redis again (its circuit's open time).
 *       The API is protected and down.
 *   <li>{@link #local(Limit)} / {@link #localShare(int)}: decide in this process with an in-process per-key limiter
 *       (exact, on this process's clock) holding a share of the limit: with N servers, 1/N of it each keeps the
 *       fleet near the limit. A request costing more than the local burst is refused as by {@link #failClosed()}.
 * </ul>
 */
public final class FailurePolicy {

  enum Kind { OPEN, CLOSED, LOCAL }

  final Kind kind;
  private final Limit localLimit; // LOCAL with an explicit limit
  private final int share; // LOCAL with a share of the limit: 1/share

  private FailurePolicy(Kind kind, Limit localLimit, int share) {
    this.kind = kind;
    this.localLimit = localLimit;
    this.share = share;
  }

  /** Allow every request while Redis is away. */
  public static FailurePolicy failOpen() {
    return new FailurePolicy(Kind.OPEN, null, 0);
  }

  /** Refuse every request while Redis is away. */
  public static FailurePolicy failClosed() {
    return new FailurePolicy(Kind.CLOSED, null, 0);
  }

  /** Decide in process with {@code localLimit} per key while Redis is away. */
  public static FailurePolicy local(Limit localLimit) {
    return new FailurePolicy(Kind.LOCAL, Objects.requireNonNull(localLimit, "localLimit"), 0);
  }

  /**
   * Decide in process with 1/{@code instances} of the limiter's own limit per key while Redis is away: each bucket
   * {@code amount/period burst b} becomes {@code amount/(period * instances) burst ceil(b / instances)} (interval
   * refill: the same chunk every {@code interval * instances}, the burst at least one chunk).
   *
   * @throws IllegalArgumentException if {@code instances} is below 1 (and, when the limiter is built, if the share
   *     is slower than the slowest rate supported, 1/day: then use {@link #local(Limit)})
   */
  public static FailurePolicy localShare(int instances) {
    if (instances < 1) {
      throw new IllegalArgumentException("the number of instances sharing the limit must be at least 1, got "
          + instances);
    }
    return new FailurePolicy(Kind.LOCAL, null, instances);
  }

  /**
   * Reads a policy in the text form every configuration uses (the gateway's {@code on-redis-failure}, the Spring
   * starter's {@code throttle.on-redis-failure}): {@code fail-open}, {@code fail-closed},
   * {@code local-share:<instances>} or {@code local:<limit>} (the core's grammar, {@code local:10/s}).
   *
   * @throws IllegalArgumentException quoting the text and what is allowed
   */
  public static FailurePolicy parse(String text) {
    String t = Objects.requireNonNull(text, "text").strip();
    String lower = t.toLowerCase(java.util.Locale.ROOT);
    try {
      if (lower.equals("fail-open")) {
        return failOpen();
      }
      if (lower.equals("fail-closed")) {
        return failClosed();
      }
      if (lower.startsWith("local-share:")) {
        return localShare(Integer.parseInt(t.substring("local-share:".length()).strip()));
      }
      if (lower.startsWith("local:")) {
        return local(Limit.parse(t.substring("local:".length()).strip()));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("local-share needs a whole number of instances, got '" + text + "'", e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "': " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("must be fail-open, fail-closed, local-share:<instances> or local:<limit>, got '"
        + text + "'");
  }

  /** The limit the local fallback enforces for a limiter of {@code limit}; null unless local. */
  Limit localLimit(Limit limit) {
    if (kind != Kind.LOCAL) {
      return null;
    }
    return localLimit != null ? localLimit : share(limit, share);
  }

  static Limit share(Limit limit, int n) {
    Limit.Builder builder = Limit.builder();
    for (Bandwidth b : limit.bandwidths()) {
      long burst = (b.burst() + n - 1) / n;
      builder.rate(b.amount(), b.period().multipliedBy(n));
      if (b.isIntervalRefill()) {
        builder.refillEvery(b.refillInterval().multipliedBy(n));
        burst = Math.max(burst, b.tokensPerInterval());
      }
      builder.burst(burst);
    }
    try {
      return builder.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot share the limit '" + limit + "' among " + n
          + " instances for the local fallback (" + e.getMessage() + "); give FailurePolicy.local(Limit) a limit",
          e);
    }
  }

  @Override
  public String toString() {
    return switch (kind) {
      case OPEN -> "fail-open";
      case CLOSED -> "fail-closed";
      case LOCAL -> localLimit != null ? "local " + localLimit : "local 1/" + share + " of the limit";
    };
  }
}
