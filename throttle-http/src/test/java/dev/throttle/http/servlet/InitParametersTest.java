package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.StructuredFields;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The filter configured the way a web.xml configures it: by init parameters only. */
class InitParametersTest {

  @Test
  void rulesFromInitParametersThrottleAsConfigured() throws Exception {
    TestServer server = TestServer.startWithInitParameters(Map.of(
        "rules", """
            # one rule a line
            uploads: path=/upload; methods=POST; limit=1/min
            api: path=/api; limit=2/min burst 2; key=header:X-API-Key|ip
            """,
        "trusted-proxies", "127.0.0.1",
        "forwarded-header", "Forwarded",
        "legacy-headers", "false",
        "max-keys", "1000"));
    try {
      RawHttp.Response first = RawHttp.get(server.port(), "/api/items", "Forwarded: for=198.51.100.1");
      assertThat(first.status()).isEqualTo(200);
      assertThat(StructuredFields.parseList(first.header("RateLimit-Policy")).get(0).value()).isEqualTo("api");
      assertThat(first.header("X-RateLimit-Limit")).isNull();
      assertThat(RawHttp.get(server.port(), "/api/items", "Forwarded: for=198.51.100.1").status()).isEqualTo(200);
      assertThat(RawHttp.get(server.port(), "/api/items", "Forwarded: for=198.51.100.1").status()).isEqualTo(429);
      assertThat(RawHttp.get(server.port(), "/api/items", "Forwarded: for=198.51.100.2").status()).isEqualTo(200);
      assertThat(RawHttp.get(server.port(), "/api/items", "X-API-Key: k", "Forwarded: for=198.51.100.1").status())
          .isEqualTo(200);
      try (RawHttp c = new RawHttp(server.port())) {
        c.send("POST", "/upload", "Content-Length: 0");
        assertThat(c.read().status()).isEqualTo(200);
        c.send("POST", "/upload", "Content-Length: 0");
        RawHttp.Response refused = c.read();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Retry-After")).isEqualTo("60");
      }
      assertThat(RawHttp.get(server.port(), "/elsewhere").header("RateLimit")).isNull(); // no rule covers it
    } finally {
      server.close();
    }
  }

  @Test
  void theHeaderDialectIsAnInitParameter() throws Exception {
    TestServer server = TestServer.startWithInitParameters(Map.of(
        "rules", "api: limit=5/min burst 3",
        "rate-limit-headers", "draft-7",
        "legacy-headers", "false"));
    try {
      Map<String, Object> r = NodeParsers.get("http://127.0.0.1:" + server.port() + "/", 1).get(0);
      @SuppressWarnings("unchecked")
      Map<String, Object> fields = (Map<String, Object>) r.get("fields");
      assertThat(fields.keySet()).containsExactlyInAnyOrder("ratelimit", "ratelimit-policy");
      @SuppressWarnings("unchecked")
      Map<String, Object> quota = (Map<String, Object>) r.get("parsed"); // ratelimit-header-parser's reading
      assertThat(quota.get("limit")).hasToString("3");
      assertThat(quota.get("remaining")).hasToString("2");
    } finally {
      server.close();
    }
  }
}
