package dev.throttle.micrometer;

import dev.throttle.client.AttemptListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Objects;

/**
 * Meters for a {@link dev.throttle.client.ThrottledHttpClient}'s attempts (retries included), as an
 * {@link AttemptListener}:
 *
 * <ul>
 *   <li>{@code throttle.client.attempts{client, result}} (counter): {@code 2xx}, {@code 429}, {@code 503}, other
 *       {@code 4xx} / {@code 5xx} / {@code other} statuses, and {@code error} (no response);
 *   <li>{@code throttle.client.server.wait{client}} (timer): the waits servers asked for ({@code Retry-After},
 *       {@code RateLimit}, {@code X-RateLimit-Reset}) in their 429 and 503 responses.
 * </ul>
 *
 * <pre>{@code
 * HttpClient http = AttemptListener.observing(HttpClient.newHttpClient(), ClientMetrics.of(registry, "orders"));
 * ThrottledHttpClient client = ThrottledHttpClient.builder(limit).httpClient(http).build();
 * }</pre>
 */
public final class ClientMetrics implements AttemptListener {

  private final Counter ok;
  private final Counter tooMany;
  private final Counter unavailable;
  private final Counter clientError;
  private final Counter serverError;
  private final Counter other;
  private final Counter error;
  private final Timer serverWait;

  private ClientMetrics(MeterRegistry registry, Tags tags) {
    ok = attempts(registry, tags, "2xx");
    tooMany = attempts(registry, tags, "429");
    unavailable = attempts(registry, tags, "503");
    clientError = attempts(registry, tags, "4xx");
    serverError = attempts(registry, tags, "5xx");
    other = attempts(registry, tags, "other");
    error = attempts(registry, tags, "error");
    serverWait = Timer.builder("throttle.client.server.wait")
        .description("Waits servers asked for in 429 and 503 responses").tags(tags).register(registry);
  }

  /** Meters tagged {@code client=name}. */
  public static ClientMetrics of(MeterRegistry registry, String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a client's metrics need a name, got '" + name + "'");
    }
    return new ClientMetrics(Objects.requireNonNull(registry, "registry"), Tags.of("client", name));
  }

  private static Counter attempts(MeterRegistry registry, Tags tags, String result) {
    return Counter.builder("throttle.client.attempts").description("Attempts sent, by how they ended")
        .tags(tags).tag("result", result).register(registry);
  }

  @Override
  public void onResponse(HttpRequest request, HttpResponse<?> response) {
    int s = response.statusCode();
    if (s >= 200 && s < 300) {
      ok.increment();
      return;
    }
    if (s == 429 || s == 503) {
      (s == 429 ? tooMany : unavailable).increment();
      AttemptListener.serverWait(response).ifPresent(serverWait::record);
    } else if (s >= 400 && s < 500) {
      clientError.increment();
    } else if (s >= 500 && s < 600) {
      serverError.increment();
    } else {
      other.increment();
    }
  }

  @Override
  public void onError(HttpRequest request, Throwable e) {
    error.increment();
  }
}
