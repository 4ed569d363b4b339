package dev.throttle.spring;

import dev.throttle.http.RequestView;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.util.UriUtils;

/** A WebFlux request as the throttle sees it. */
final class ReactiveRequestView implements RequestView {

  private final ServerHttpRequest request;
  private final String principal;
  private final String path;

  ReactiveRequestView(ServerHttpRequest request, String principal) {
    this.request = request;
    this.principal = principal;
    this.path = decode(request.getPath().pathWithinApplication().value());
  }

  /**
   * The path within the application, percent-decoded so that {@code /ap%69} is {@code /api} to the rules. Dot
   * segments are left as they are, as WebFlux routes them (it does not resolve them either). An invalid escape
   * leaves the path as sent: it matches no rule written in plain text, and no handler either.
   */
  private static String decode(String raw) {
    if (raw.isEmpty()) {
      return "/";
    }
    try {
      return UriUtils.decode(raw, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return raw;
    }
  }

  @Override
  public String method() {
    return request.getMethod().name();
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public List<String> headers(String name) {
    List<String> values = request.getHeaders().get(name);
    return values == null ? List.of() : values;
  }

  @Override
  public String header(String name) {
    return request.getHeaders().getFirst(name);
  }

  @Override
  public String remoteAddress() {
    InetSocketAddress a = request.getRemoteAddress();
    return a == null || a.getAddress() == null ? "" : a.getAddress().getHostAddress();
  }

  @Override
  public String principal() {
    return principal;
  }

  @Override
  public String toString() {
    return method() + " " + path + " from " + remoteAddress();
  }
}
