package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyResolverTest {

  static RequestView request(Map<String, List<String>> headers, String peer, String principal) {
    return RequestView.of("GET", "/api/items", headers, peer, principal);
  }

  @Test
  void builtInKeysCarryTheirKind() {
    RequestView r = request(Map.of("X-API-Key", List.of("abc")), "192.0.2.7", "alice");
    assertThat(KeyResolver.ip().resolve(r)).isEqualTo("ip:192.0.2.7");
    assertThat(KeyResolver.header("x-api-key").resolve(r)).isEqualTo("header:x-api-key:abc");
    assertThat(KeyResolver.principal().resolve(r)).isEqualTo("principal:alice");
    assertThat(KeyResolver.path().resolve(r)).isEqualTo("path:/api/items");
    assertThat(KeyResolver.all().resolve(r)).isEqualTo("all");
    assertThat(KeyResolver.header("X-API-Key").and(KeyResolver.path()).resolve(r))
        .isEqualTo("header:x-api-key:abc+path:/api/items");
  }

  @Test
  void anApiKeyEqualToAnAddressDoesNotShareThatAddressesBucket() {
    KeyResolver keyElseIp = KeyResolver.header("X-API-Key").orElse(KeyResolver.ip());
    String victim = keyElseIp.resolve(request(Map.of(), "192.0.2.7", null));
    String attacker = keyElseIp.resolve(request(Map.of("X-API-Key", List.of("192.0.2.7")), "203.0.113.1", null));
    assertThat(victim).isEqualTo("ip:192.0.2.7");
    assertThat(attacker).isNotEqualTo(victim);
  }

  @Test
  void valuesAreEscapedSoDifferentValuesNeverShareAKey() {
    KeyResolver both = KeyResolver.header("A").and(KeyResolver.header("B"));
    String k1 = both.resolve(request(Map.of("A", List.of("x+header:b:y"), "B", List.of("z")), "192.0.2.7", null));
    String k2 = both.resolve(request(Map.of("A", List.of("x"), "B", List.of("y+header:b:z")), "192.0.2.7", null));
    assertThat(k1).isNotEqualTo(k2);
    String odd = KeyResolver.header("A").resolve(request(Map.of("A", List.of("é 100%\u0001")), "192.0.2.7", null));
    assertThat(odd).isEqualTo("header:a:%C3%A9%20100%25%01");
    assertThat(odd.chars()).allMatch(c -> c > ' ' && c < 127);
  }

  @Test
  void missingOrBlankMeansNoKey() {
    RequestView blank = request(Map.of("X-API-Key", List.of("   ")), "192.0.2.7", null);
    assertThat(KeyResolver.header("X-API-Key").resolve(blank)).isNull();
    assertThat(KeyResolver.header("X-API-Key").resolve(request(Map.of(), "192.0.2.7", null))).isNull();
    assertThat(KeyResolver.principal().resolve(blank)).isNull();
    assertThat(KeyResolver.principal().and(KeyResolver.ip()).resolve(blank)).isNull();
    assertThat(KeyResolver.principal().orElse(KeyResolver.ip()).resolve(blank)).isEqualTo("ip:192.0.2.7");
  }

  @Test
  void aHugeValueIsRefusedWithoutRepeatingIt() {
    String huge = "k".repeat(100 * 1024);
    RequestView r = request(Map.of("X-API-Key", List.of(huge)), "192.0.2.7", null);
    assertThatThrownBy(() -> KeyResolver.header("X-API-Key").resolve(r))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessage("the X-API-Key header is 102400 characters long; at most 256 are accepted as a rate-limit key");
    String ok = "k".repeat(KeyResolver.MAX_VALUE_LENGTH);
    assertThat(KeyResolver.header("X-API-Key").resolve(request(Map.of("X-API-Key", List.of(ok)), "192.0.2.7", null)))
        .endsWith(ok);
  }

  @Test
  void textFormRoundTripsAndErrorsShowTheGrammar() {
    for (String text : new String[] {"ip", "header:X-API-Key", "principal", "path", "all", "header:X-API-Key|ip",
        "principal+path|ip"}) {
      assertThat(KeyResolver.parse(text, TrustedProxies.none())).hasToString(text);
    }
    assertThat(KeyResolver.parse(" Header:X-API-Key | IP ", TrustedProxies.none())).hasToString("header:X-API-Key|ip");
    assertThatThrownBy(() -> KeyResolver.parse("cookie:session", TrustedProxies.none()))
        .hasMessageContaining("Invalid key 'cookie:session': unknown 'cookie:session'")
        .hasMessageContaining("header:<Name>");
    assertThatThrownBy(() -> KeyResolver.parse("ip|", TrustedProxies.none()))
        .hasMessageContaining("unknown an empty part");
    assertThatThrownBy(() -> KeyResolver.parse("header:X API", TrustedProxies.none()))
        .hasMessageContaining("'X API' is not a valid header name");
  }

  @Test
  void ipKeysBelieveForwardingOnlyFromTrustedProxies() {
    KeyResolver ip = KeyResolver.parse("ip", TrustedProxies.of("127.0.0.1"));
    assertThat(ip.resolve(request(Map.of("X-Forwarded-For", List.of("198.51.100.4")), "127.0.0.1", null)))
        .isEqualTo("ip:198.51.100.4");
    assertThat(ip.resolve(request(Map.of("X-Forwarded-For", List.of("198.51.100.4")), "192.0.2.7", null)))
        .isEqualTo("ip:192.0.2.7");
    assertThat(ip.resolve(request(Map.of("X-Forwarded-For", List.of("unknown")), "127.0.0.1", null))).isNull();
  }
}
