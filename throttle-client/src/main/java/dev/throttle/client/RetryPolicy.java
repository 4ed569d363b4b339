package dev.throttle.client;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * What a {@link ThrottledHttpClient} retries, how often, and how long it waits. Immutable and validated when built.
 *
 * <ul>
 *   <li><b>Statuses</b> ({@code 429} and {@code 503} by default): the server's wait is honoured, from
 *       {@code Retry-After} (delay-seconds or an HTTP-date), else {@code RateLimit} ({@code t=}), else
 *       {@code X-RateLimit-Reset}; without a valid one, {@linkplain #backoff(int, RandomGenerator) backoff}. A
 *       server wait longer than {@link #maxServerWait()} is not shortened: the call ends there (FAILED), since
 *       retrying sooner than the server asked is never done.
 *   <li><b>Connection errors and timeouts</b> are retried with backoff when enabled (both are by default). For
 *       methods that are not idempotent ({@code POST}, {@code PATCH}) only a failed connection (refused, or a connect
 *       that timed out) is retried, since the request cannot have reached the server, unless {@link Builder#retryNonIdempotent(boolean)} says otherwise.
 *   <li>Every other status is a final result.
 * </ul>
 *
 * <p>Backoff is exponential with full jitter: before attempt {@code n + 1} the wait is uniform in
 * {@code [0, min(cap, base * 2^(n-1))]} (defaults: base 100 ms, cap 2 s, as in the seeds' {@code 0.1 * 2^attempt}).
 */
public final class RetryPolicy {

  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE");

  private final int maxAttempts;
  private final Duration backoffBase;
  private final Duration backoffCap;
  private final Duration maxServerWait;
  private final Set<Integer> retryStatuses;
  private final boolean retryConnectionErrors;
  private final boolean retryTimeouts;
  private final boolean retryNonIdempotent;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.backoffBase = b.backoffBase;
    this.backoffCap = b.backoffCap;
    this.maxServerWait = b.maxServerWait;
    this.retryStatuses = Set.copyOf(b.retryStatuses);
    this.retryConnectionErrors = b.retryConnectionErrors;
    this.retryTimeouts = b.retryTimeouts;
    this.retryNonIdempotent = b.retryNonIdempotent;
  }

  /** 5 attempts, backoff 100 ms to 2 s, server waits up to 5 min, retrying 429, 503, connection errors, timeouts. */
  public static RetryPolicy defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this policy. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxAttempts = maxAttempts;
    b.backoffBase = backoffBase;
    b.backoffCap = backoffCap;
    b.maxServerWait = maxServerWait;
    b.retryStatuses = new TreeSet<>(retryStatuses);
    b.retryConnectionErrors = retryConnectionErrors;
    b.retryTimeouts = retryTimeouts;
    b.retryNonIdempotent = retryNonIdempotent;
    return b;
  }

  /** Attempts in all, the first included (1 means never retry). */
  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration backoffBase() {
    return backoffBase;
  }

  public Duration backoffCap() {
    return backoffCap;
  }

  /** The longest wait a server may ask for and still be retried. */
  public Duration maxServerWait() {
    return maxServerWait;
  }

  /** The statuses that are retried (the server's wait honoured). */
  public Set<Integer> retryStatuses() {
    return retryStatuses;
  }

  public boolean retriesConnectionErrors() {
    return retryConnectionErrors;
  }

  public boolean retriesTimeouts() {
    return retryTimeouts;
  }

  public boolean retriesNonIdempotent() {
    return retryNonIdempotent;
  }

  /** Whether a response with {@code status} is retried. */
  public boolean retriesStatus(int status) {
    return retryStatuses.contains(status);
  }

  /**
   * Whether a failure without a response is retried.
   *
   * @param timeout the attempt timed out (otherwise it was a connection error)
   * @param refused the connection failed (refused, or the connect timed out), so the request cannot have reached
   *     the server
   * @param method the request's method
   */
  boolean retriesError(boolean timeout, boolean refused, String method) {
    if (!(timeout ? retryTimeouts : retryConnectionErrors)) {
      return false;
    }
    return refused || retryNonIdempotent || IDEMPOTENT.contains(method.toUpperCase(java.util.Locale.ROOT));
  }

  /**
   * The backoff before the attempt after {@code attemptsSoFar} (at least 1): uniform in
   * {@code [0, min(cap, base * 2^(attemptsSoFar - 1))]}, in nanoseconds.
   */
  public long backoff(int attemptsSoFar, RandomGenerator random) {
    if (attemptsSoFar < 1) {
      throw new IllegalArgumentException("attempts so far must be at least 1, got " + attemptsSoFar);
    }
    long base = backoffBase.toNanos();
    long cap = backoffCap.toNanos();
    int shift = Math.min(attemptsSoFar - 1, 62);
    long ceiling = base > (cap >> shift) ? cap : Math.min(cap, base << shift);
    return ceiling == 0 ? 0 : random.nextLong(ceiling + 1);
  }

  @Override
  public String toString() {
    return "RetryPolicy[" + maxAttempts + " attempts, backoff " + backoffBase.toMillis() + ".." + backoffCap.toMillis()
        + " ms, server waits up to " + maxServerWait.toSeconds() + " s, statuses " + new TreeSet<>(retryStatuses)
        + (retryConnectionErrors ? ", connection errors" : "") + (retryTimeouts ? ", timeouts" : "")
        + (retryNonIdempotent ? ", non-idempotent too" : "") + "]";
  }

  /** Builds a {@link RetryPolicy}; every setter validates its value at once. */
  public static final class Builder {
    private int maxAttempts = 5;
    private Duration backoffBase = Duration.ofMillis(100);
    private Duration backoffCap = Duration.ofSeconds(2);
    private Duration maxServerWait = Duration.ofMinutes(5);
    private Set<Integer> retryStatuses = new TreeSet<>(Set.of(429, 503));
    private boolean retryConnectionErrors = true;
    private boolean retryTimeouts = true;
    private boolean retryNonIdempotent = false;

    private Builder() {}

    /** Attempts in all, at least 1. */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("the maximum number of attempts must be at least 1, got " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /** Backoff base and cap: {@code 0 <= base <= cap}. */
    public Builder backoff(Duration base, Duration cap) {
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(cap, "cap");
      if (base.isNegative() || cap.compareTo(base) < 0) {
        throw new IllegalArgumentException("backoff needs 0 <= base <= cap, got base " + base + " and cap " + cap);
      }
      if (cap.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException("the backoff cap must be at most a day, got " + cap);
      }
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /** The longest server-asked wait that is honoured (not negative, at most a day). */
    public Builder maxServerWait(Duration max) {
      Objects.requireNonNull(max, "max");
      if (max.isNegative() || max.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException("the maximum server wait must be between 0 and a day, got " + max);
      }
      this.maxServerWait = max;
      return this;
    }

    /** The statuses to retry (each 400..599). */
    public Builder retryStatuses(Set<Integer> statuses) {
      for (Integer s : statuses) {
        if (s == null || s < 400 || s > 599) {
          throw new IllegalArgumentException("a retried status must be between 400 and 599, got " + s);
        }
      }
      this.retryStatuses = new TreeSet<>(statuses);
      return this;
    }

    public Builder retryConnectionErrors(boolean retry) {
      this.retryConnectionErrors = retry;
      return this;
    }

    public Builder retryTimeouts(boolean retry) {
      this.retryTimeouts = retry;
      return this;
    }

    /** Whether POST and PATCH are retried after errors that may have reached the server (default false). */
    public Builder retryNonIdempotent(boolean retry) {
      this.retryNonIdempotent = retry;
      return this;
    }

    public RetryPolicy build() {
      return new RetryPolicy(this);
    }
  }
}
