package dev.throttle.http;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What the throttle needs to know of a request, whatever serves it: each adapter (the Servlet filter, the gateway)
 * wraps its own request type in this view. The view is read during {@link HttpThrottle#admit(RequestView)} only and
 * is not kept.
 */
public interface RequestView {

  /** The method, as sent ({@code GET}, {@code POST}...). */
  String method();

  /**
   * The path, without the query string and without the application's context path, decoded and normalised by the
   * server ({@code /api/items/7}). Rules match on it, so that {@code /ap%69} cannot pass for another route.
   */
  String path();

  /** Every value of the header {@code name} (case-insensitive), in the order received; empty if there is none. */
  List<String> headers(String name);

  /** The first value of the header {@code name}, or null. */
  default String header(String name) {
    List<String> values = headers(name);
    return values.isEmpty() ? null : values.get(0);
  }

  /** The address of the direct peer (the other end of the socket) as an IP literal, without a port. */
  String remoteAddress();

  /** The name of the authenticated user, or null when the request is not authenticated. */
  String principal();

  /**
   * A plain view, for adapters without a request type of their own and for tests.
   *
   * @param headers header names (any case) to their values, in order
   * @param principal null when not authenticated
   */
  static RequestView of(String method, String path, Map<String, List<String>> headers, String remoteAddress,
      String principal) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(remoteAddress, "remoteAddress");
    Map<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((name, values) -> copy.computeIfAbsent(name, k -> new ArrayList<>()).addAll(values));
    return new RequestView() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String path() {
        return path;
      }

      @Override
      public List<String> headers(String name) {
        List<String> values = copy.get(name);
        return values == null ? List.of() : Collections.unmodifiableList(values);
      }

      @Override
      public String remoteAddress() {
        return remoteAddress;
      }

      @Override
      public String principal() {
        return principal;
      }

      @Override
      public String toString() {
        return method.toUpperCase(Locale.ROOT) + " " + path + " from " + remoteAddress;
      }
    };
  }
}
