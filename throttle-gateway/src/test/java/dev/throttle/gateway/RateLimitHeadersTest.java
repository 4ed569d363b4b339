package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The {@code rate-limit-headers} YAML setting on real sockets: the gateway sends the dialect asked for (the dialects
 * themselves are read back by independent parsers in throttle-http's HeaderDialectTest), and a bad value is named
 * with its line.
 */
class RateLimitHeadersTest extends GatewayTests {

  private int start(String headers) {
    gateway = Gateway.start(GatewayConfig.parse("""
        listen: 127.0.0.1:0
        admin: off
        upstream: %s
        rate-limit-headers: %s
        routes:
          - name: api
            rules:
              - limit: 5/min burst 3
        """.formatted(upstream.uri(), headers), "gw.yaml"));
    return gateway.port();
  }

  @Test
  void draft7IsTheCombinedField() {
    HttpResponse<String> r = Http.get(start("draft-7"), "/x");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().allValues("RateLimit")).containsExactly("limit=3, remaining=2, reset=12");
    assertThat(r.headers().allValues("RateLimit-Policy")).containsExactly("5;w=60");
    assertThat(r.headers().allValues("X-RateLimit-Remaining")).containsExactly("2");
  }

  @Test
  void legacySendsOnlyTheXRateLimitFields() {
    HttpResponse<String> r = Http.get(start("legacy"), "/x");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().map().keySet()).noneMatch(n -> n.toLowerCase(java.util.Locale.ROOT).startsWith("ratelimit"));
    assertThat(r.headers().allValues("X-RateLimit-Limit")).containsExactly("3");
  }

  @Test
  void aBadDialectIsNamedWithItsLine() {
    assertThatThrownBy(() -> start("draft-8")).isInstanceOf(ConfigException.class)
        .hasMessage("gw.yaml:4: rate-limit-headers must be one of draft-10, draft-7, draft-6, legacy, none, got "
            + "'draft-8'");
  }
}
