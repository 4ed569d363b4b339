package dev.throttle.http;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What to do with a request, decided by the throttle and carried out by an adapter: either pass it on to the
 * application with {@link #headers()} added to its response, or answer it with {@link #status()},
 * {@link #headers()} and {@link #body()} and not pass it on. The adapter adds nothing of its own: every adapter
 * answers the same way.
 *
 * <p>Immutable.
 */
public final class Verdict {

  /** Why; for metrics and logs. */
  public enum Outcome {
    /** No rule covers the request (or its rule lets requests without a key through): passed on untouched. */
    UNTHROTTLED(true),
    /** The tokens were there: passed on at once. */
    ALLOWED(true),
    /** Passed on after waiting its turn (delay mode). */
    DELAYED(true),
    /** Dry run: the request would have been refused; passed on all the same. */
    DRY_RUN_REFUSED(true),
    /** Over the limit (or it would have waited longer than the rule allows): {@code 429}. */
    REFUSED(false),
    /** The rule's key is missing and the rule refuses such requests: {@code 400}. */
    MISSING_KEY(false),
    /** The request's key cannot be used (too long): {@code 400}. */
    INVALID_KEY(false),
    /**
     * The client went away while waiting (or its exchange failed): its place was given up and its tokens returned.
     * The verdict still carries a {@code 503} with {@code Retry-After}, for an adapter that cannot tell whether anyone
     * is listening; one that knows the client is gone sends nothing.
     */
    CLIENT_GONE(false),
    /** The adapter stopped waiting (its async timeout): {@code 503} with {@code Retry-After}. */
    TIMED_OUT(false),
    /** The throttle was closed (the server is shutting down): {@code 503} with {@code Retry-After}. */
    SHUT_DOWN(false),
    /** The store failed to answer: {@code 503} with {@code Retry-After}. */
    STORE_FAILED(false),
    /** A bug in a configured function (key resolver, cost): {@code 500}, and the error logged. */
    FAILED(false);

    private final boolean proceeds;

    Outcome(boolean proceeds) {
      this.proceeds = proceeds;
    }

    /** Whether a request with this outcome is passed on to the application. */
    public boolean proceeds() {
      return proceeds;
    }
  }

  /** One response header field. */
  public record Header(String name, String value) {
    public Header {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
    }
  }

  private final Outcome outcome;
  private final int status;
  private final List<Header> headers;
  private final String contentType;
  private final String body;
  private final String ruleName;
  private final String key;
  private final long waitedNanos;
  private final long remaining;

  Verdict(Outcome outcome, int status, List<Header> headers, String contentType, String body, String ruleName,
      String key, long waitedNanos) {
    this(outcome, status, headers, contentType, body, ruleName, key, waitedNanos, -1);
  }

  /** With {@code remaining}: the whole tokens left that the rate-limit fields report; -1 when they report none. */
  Verdict(Outcome outcome, int status, List<Header> headers, String contentType, String body, String ruleName,
      String key, long waitedNanos, long remaining) {
    this.outcome = outcome;
    this.status = status;
    this.headers = List.copyOf(headers);
    this.contentType = contentType;
    this.body = body;
    this.ruleName = ruleName;
    this.key = key;
    this.waitedNanos = waitedNanos;
    this.remaining = remaining;
  }

  /**
   * The {@code 503} (with {@code Retry-After: 1}) for a request this verdict passed on that the adapter could not
   * hand to the application after all: a container that is stopping takes no more dispatches. {@code reason} is how
   * the adapter learnt it: {@link Outcome#TIMED_OUT} or {@link Outcome#CLIENT_GONE}. The tokens stay spent.
   */
  public Verdict undelivered(Outcome reason) {
    if (!proceeds() || reason.proceeds()) {
      throw new IllegalArgumentException("undelivered() needs a verdict that passed the request on and a reason that "
          + "does not, got " + this + " and " + reason);
    }
    return Render.unavailable(reason, ruleName, key, 0, waitedNanos);
  }

  /** The tokens left that the rate-limit fields report; -1 without such fields. */
  long remaining() {
    return remaining;
  }

  long waitedNanos() {
    return waitedNanos;
  }

  /** Why. */
  public Outcome outcome() {
    return outcome;
  }

  /** Whether to pass the request on to the application (with {@link #headers()} added to its response). */
  public boolean proceeds() {
    return outcome.proceeds();
  }

  /** The status to answer with when the request does not proceed (429, 503, 400, 500); 0 when it proceeds. */
  public int status() {
    return status;
  }

  /**
   * The header fields to send: the rate-limit fields on a request passed on; on an answer, those and
   * {@code Retry-After}. Content type and length are not among them ({@link #contentType()}).
   */
  public List<Header> headers() {
    return headers;
  }

  /** The first value of the header {@code name} (case-insensitive) among {@link #headers()}, or null. */
  public String header(String name) {
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        return h.value();
      }
    }
    return null;
  }

  /** The body's media type ({@code application/problem+json}), or null when there is no body. */
  public String contentType() {
    return contentType;
  }

  /** The body to answer with: an RFC 9457 problem in JSON, ASCII only; empty when there is none. */
  public String body() {
    return body;
  }

  /** The rule that decided, or null when none covers the request. */
  public String ruleName() {
    return ruleName;
  }

  /** The key the request was throttled by (for logs and metrics; it may identify the caller), or null. */
  public String key() {
    return key;
  }

  /** How long the request waited for its turn; zero unless {@link Outcome#DELAYED} (or given up while waiting). */
  public Duration waited() {
    return Duration.ofNanos(waitedNanos);
  }

  @Override
  public String toString() {
    return "Verdict[" + outcome + (status == 0 ? "" : " " + status) + (ruleName == null ? "" : ", rule " + ruleName)
        + (waitedNanos == 0 ? "" : ", waited " + waited()) + "]";
  }
}
