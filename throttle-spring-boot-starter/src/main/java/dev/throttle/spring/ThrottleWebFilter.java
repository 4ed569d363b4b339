package dev.throttle.spring;

import dev.throttle.http.Admission;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The {@link HttpThrottle} as a Spring WebFlux {@link WebFilter}, non-blocking throughout.
 *
 * <ul>
 *   <li><b>Passed on:</b> the rate-limit headers are added to the response, then the chain continues.
 *   <li><b>Refused:</b> {@code 429} with {@code Retry-After}, the rate-limit headers and a problem body; the chain
 *       does not run. Missing or invalid keys get {@code 400}.
 *   <li><b>Delayed:</b> the exchange's {@code Mono} waits for the verdict's future; no thread is held. When the turn
 *       comes, the chain continues on Reactor's parallel scheduler (not on the limiter's timer thread, which must
 *       stay free for the other waiters).
 *   <li><b>Given up:</b> when the exchange is cancelled while waiting (the client closed its connection or reset
 *       its stream: Reactor Netty cancels the subscription) the request's place is freed and its tokens returned.
 * </ul>
 *
 * The authenticated principal ({@code ServerWebExchange#getPrincipal}) is what a {@code principal} key sees: order
 * this filter after Spring Security's ({@code -100}), as the starter's default order (last) does.
 */
public final class ThrottleWebFilter implements WebFilter, Ordered {

  private final HttpThrottle throttle;
  private final int order;

  /** A filter deciding through {@code throttle}, at {@code order} among the application's web filters. */
  public ThrottleWebFilter(HttpThrottle throttle, int order) {
    this.throttle = Objects.requireNonNull(throttle, "throttle");
    this.order = order;
  }

  /** The throttle this filter decides through. */
  public HttpThrottle throttle() {
    return throttle;
  }

  @Override
  public int getOrder() {
    return order;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    return exchange.getPrincipal()
        .map(p -> Optional.ofNullable(p.getName()))
        .defaultIfEmpty(Optional.empty())
        .flatMap(principal -> admit(exchange, chain, principal.orElse(null)));
  }

  private Mono<Void> admit(ServerWebExchange exchange, WebFilterChain chain, String principal) {
    Admission admission = throttle.admit(new ReactiveRequestView(exchange.getRequest(), principal));
    CompletableFuture<Verdict> verdict = admission.verdict();
    if (verdict.isDone()) {
      return carryOut(verdict.join(), exchange, chain); // the common case: no scheduling at all
    }
    return Mono.fromFuture(verdict, /* suppressCancel= */ true)
        // The subscription cancelled while waiting: the client is gone. Its place and tokens go to those behind it.
        .doOnCancel(() -> admission.cancel(Admission.Cancel.CLIENT_GONE))
        .publishOn(Schedulers.parallel())
        .flatMap(v -> carryOut(v, exchange, chain));
  }

  private static Mono<Void> carryOut(Verdict v, ServerWebExchange exchange, WebFilterChain chain) {
    ServerHttpResponse response = exchange.getResponse();
    HttpHeaders headers = response.getHeaders();
    for (Verdict.Header h : v.headers()) {
      headers.add(h.name(), h.value());
    }
    if (v.proceeds()) {
      return chain.filter(exchange);
    }
    response.setStatusCode(HttpStatusCode.valueOf(v.status()));
    if (v.contentType() == null) {
      return response.setComplete();
    }
    byte[] body = v.body().getBytes(StandardCharsets.UTF_8);
    headers.setContentType(MediaType.parseMediaType(v.contentType()));
    headers.setContentLength(body.length);
    return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(body)));
  }

  @Override
  public String toString() {
    return "ThrottleWebFilter" + throttle.rules();
  }
}
