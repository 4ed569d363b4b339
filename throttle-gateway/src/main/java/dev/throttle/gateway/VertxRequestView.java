package dev.throttle.gateway;

import dev.throttle.http.RequestView;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.net.RFC3986;
import io.vertx.core.net.SocketAddress;
import java.util.List;

/**
 * A Vert.x request as the throttle sees it. Rules match on the path normalised as RFC 3986 says (unreserved
 * characters decoded, dot segments removed, {@code //} collapsed), so that {@code /ap%69/x} or {@code /x/../api}
 * cannot pass for another route; the upstream still receives the request line as sent. The normaliser is Vert.x's
 * own (the one its router uses), from an internal package: the alternative is a copy of it.
 */
final class VertxRequestView implements RequestView {

  private final HttpServerRequest request;
  private final String path;

  /** @throws IllegalArgumentException if the path has an invalid escape ({@code %zz}) */
  VertxRequestView(HttpServerRequest request) {
    this.request = request;
    String raw = request.path();
    this.path = RFC3986.normalizePath(raw == null ? "/" : raw);
  }

  @Override
  public String method() {
    return request.method().name();
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public List<String> headers(String name) {
    return request.headers().getAll(name);
  }

  @Override
  public String header(String name) {
    return request.getHeader(name);
  }

  @Override
  public String remoteAddress() {
    SocketAddress a = request.remoteAddress();
    return a == null || a.hostAddress() == null ? "" : a.hostAddress();
  }

  @Override
  public String principal() {
    return null; // the gateway authenticates nobody: keys come from addresses and headers
  }

  @Override
  public String toString() {
    return request.method() + " " + path + " from " + remoteAddress();
  }
}
