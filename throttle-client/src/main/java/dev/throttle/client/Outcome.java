package dev.throttle.client;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The final result of one call through a {@link ThrottledHttpClient}, after all its attempts. Immutable.
 *
 * <ul>
 *   <li>{@link Status#SUCCEEDED}: a 2xx response.
 *   <li>{@link Status#FAILED}: a final non-2xx response (a status the retry policy does not retry, or a retried one
 *       after the last attempt or with a server wait above the maximum), or an error (connection, timeout) that was
 *       not retried or whose attempts ran out. {@link #error()} says which.
 *   <li>{@link Status#CANCELLED}: cancelled (or the client closed) before it finished.
 * </ul>
 *
 * <p>Times are measured on the client's {@link dev.throttle.core.Clock}: {@link #latency()} is the round trip of
 * the last attempt (send to response or error), {@link #totalTime()} runs from the first send to the end of the
 * last attempt, retries and waits included. Both are zero when nothing was sent.
 *
 * @param <T> the body type of the {@link java.net.http.HttpResponse.BodyHandler} the call was sent with
 */
public final class Outcome<T> {

  /** How a call ended. */
  public enum Status {
    SUCCEEDED,
    FAILED,
    CANCELLED
  }

  private final Status status;
  private final HttpResponse<T> response;
  private final int attempts;
  private final String error;
  // Clock readings (only differences mean anything); sent == false when no attempt was ever sent.
  private final boolean sent;
  private final long firstSentNanos;
  private final long lastSentNanos;
  private final long endNanos;

  Outcome(Status status, HttpResponse<T> response, int attempts, String error, boolean sent, long firstSentNanos,
      long lastSentNanos, long endNanos) {
    this.status = Objects.requireNonNull(status, "status");
    this.response = response;
    this.attempts = attempts;
    this.error = error;
    this.sent = sent;
    this.firstSentNanos = firstSentNanos;
    this.lastSentNanos = lastSentNanos;
    this.endNanos = endNanos;
  }

  public Status status() {
    return status;
  }

  /** Whether the call ended with a 2xx response. */
  public boolean isSucceeded() {
    return status == Status.SUCCEEDED;
  }

  /** The HTTP status of the last response, or 0 when the last attempt got no response (or none was sent). */
  public int statusCode() {
    return response == null ? 0 : response.statusCode();
  }

  /** The last response, if the last attempt got one. */
  public Optional<HttpResponse<T>> response() {
    return Optional.ofNullable(response);
  }

  /** Attempts sent, from 0 (cancelled before the first) to the policy's maximum. */
  public int attempts() {
    return attempts;
  }

  /** Why the call did not succeed (absent when it did). */
  public Optional<String> error() {
    return Optional.ofNullable(error);
  }

  /** The last attempt's round trip; zero when nothing was sent. */
  public Duration latency() {
    return Duration.ofNanos(latencyNanos());
  }

  /** From the first send to the end of the last attempt; zero when nothing was sent. */
  public Duration totalTime() {
    return Duration.ofNanos(sent ? Math.max(0, endNanos - firstSentNanos) : 0);
  }

  long latencyNanos() {
    return sent ? Math.max(0, endNanos - lastSentNanos) : 0;
  }

  boolean wasSent() {
    return sent;
  }

  long firstSentNanos() {
    return firstSentNanos;
  }

  long endNanos() {
    return endNanos;
  }

  @Override
  public String toString() {
    return "Outcome[" + status + (response == null ? "" : ", HTTP " + response.statusCode()) + ", " + attempts
        + " attempt(s)" + (error == null ? "" : ", " + error) + "]";
  }
}
