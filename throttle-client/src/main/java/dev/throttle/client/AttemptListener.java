package dev.throttle.client;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Sees every attempt a {@link ThrottledHttpClient} sends, retries included: what a timeline ({@code throttle demo
 * --plot}) or a metrics binder counts. Attach it by giving the client an {@linkplain #observing observing}
 * {@link HttpClient}:
 *
 * <pre>{@code
 * HttpClient http = AttemptListener.observing(HttpClient.newHttpClient(), listener);
 * ThrottledHttpClient client = ThrottledHttpClient.builder(limit).httpClient(http).build();
 * }</pre>
 *
 * <p>Called on the threads of the {@link HttpClient} and of the client; an implementation must be thread-safe and
 * quick, and should not throw (an exception is caught so that the exchange goes on). Every {@link #onSend} is followed
 * by exactly one {@link #onResponse} or {@link #onError} (an aborted exchange ends in {@code onError}).
 */
public interface AttemptListener {

  /** An attempt is about to be sent. */
  default void onSend(HttpRequest request) {}

  /** An attempt got a response (any status: 2xx, 429, 503, ...); its headers carry the server's quota. */
  default void onResponse(HttpRequest request, HttpResponse<?> response) {}

  /** An attempt ended without a response (connection error, timeout, aborted). */
  default void onError(HttpRequest request, Throwable error) {}

  /**
   * {@code delegate}, telling {@code listener} of every exchange sent through it. The returned client is closed
   * with its delegate (it holds nothing of its own); cancelling an exchange's future cancels the delegate's.
   */
  static HttpClient observing(HttpClient delegate, AttemptListener listener) {
    return new ObservedHttpClient(Objects.requireNonNull(delegate, "delegate"),
        Objects.requireNonNull(listener, "listener"));
  }

  /**
   * How long {@code response} asks the client to wait before the next request ({@code Retry-After}, the IETF
   * {@code RateLimit} field, {@code X-RateLimit-Reset}, read as the client reads them), if it asks: what a metrics
   * binder records as a server wait.
   */
  static Optional<Duration> serverWait(HttpResponse<?> response) {
    return ServerWait.parse(response.headers(), Instant.now()).waitTime();
  }

  /** One listener telling each of {@code listeners} in turn. */
  static AttemptListener all(AttemptListener... listeners) {
    AttemptListener[] copy = listeners.clone();
    for (AttemptListener l : copy) {
      Objects.requireNonNull(l, "listener");
    }
    return new AttemptListener() {
      @Override
      public void onSend(HttpRequest request) {
        for (AttemptListener l : copy) {
          l.onSend(request);
        }
      }

      @Override
      public void onResponse(HttpRequest request, HttpResponse<?> response) {
        for (AttemptListener l : copy) {
          l.onResponse(request, response);
        }
      }

      @Override
      public void onError(HttpRequest request, Throwable error) {
        for (AttemptListener l : copy) {
          l.onError(request, error);
        }
      }
    };
  }
}
