package dev.throttle.client;

import java.net.http.HttpRequest;
import java.util.Objects;

/**
 * One unit of work for a {@link BatchRunner}: an identifier (echoed in its result) and the request to send. Immutable.
 */
public final class Job {

  private final String id;
  private final HttpRequest request;

  private Job(String id, HttpRequest request) {
    this.id = Objects.requireNonNull(id, "id");
    this.request = Objects.requireNonNull(request, "request");
  }

  /** A job named {@code id} (any text, not necessarily unique) sending {@code request}. */
  public static Job of(String id, HttpRequest request) {
    return new Job(id, request);
  }

  public String id() {
    return id;
  }

  public HttpRequest request() {
    return request;
  }

  @Override
  public String toString() {
    return "Job[" + id + ", " + request.method() + " " + request.uri() + "]";
  }
}
