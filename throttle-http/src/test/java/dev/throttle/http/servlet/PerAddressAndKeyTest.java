package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.JsonReader;
import dev.throttle.http.KeyResolver;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.StructuredFields;
import dev.throttle.http.TrustedProxies;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A limit per client address and another per API key on one route, both enforced on every request, through the
 * filter on real sockets: built in code with a group of rules, and from init parameters (two rules of one route).
 * Clients are named by a trusted proxy's X-Forwarded-For (the socket's peer is 127.0.0.1).
 */
class PerAddressAndKeyTest {

  private static final String PER_IP = "per-ip: path=/api; limit=3/min; key=ip";
  private static final String PER_KEY = "per-key: path=/api; limit=2/min; key=header:X-API-Key";

  @Test
  void aGroupOfRulesBuiltInCodeEnforcesBoth() throws Exception {
    ManualClock clock = new ManualClock();
    TrustedProxies proxy = TrustedProxies.of("127.0.0.1");
    HttpThrottle throttle = HttpThrottle.builder()
        .ruleGroup(List.of(
            Rule.builder("per-ip").path("/api").limit("3/min").key(KeyResolver.ip(proxy)).build(),
            Rule.builder("per-key").path("/api").limit("2/min").key(KeyResolver.header("X-API-Key")).build()))
        .stores(StoreFactory.inMemory(100, clock, clock))
        .clock(clock)
        .build();
    TestServer server = TestServer.start(new ThrottleFilter(throttle));
    try {
      bothLimitsHold(server);
    } finally {
      server.close();
    }
  }

  @Test
  void twoRulesOfOneRouteInInitParametersEnforceBoth() throws Exception {
    TestServer server = TestServer.startWithInitParameters(Map.of(
        "rules", PER_IP + "\n" + PER_KEY + "\nother: path=/other; limit=1/min",
        "trusted-proxies", "127.0.0.1"));
    try {
      bothLimitsHold(server);
      // The rule of another route is a rule of its own, as before.
      assertThat(call(server, "/other", "192.0.2.1", "k1").status()).isEqualTo(200);
      assertThat(call(server, "/other", "192.0.2.1", "k1").status()).isEqualTo(429);
    } finally {
      server.close();
    }
  }

  /** Address A and B, keys k1 and k2: 3 per minute per address, 2 per key. */
  private static void bothLimitsHold(TestServer server) throws Exception {
    RawHttp.Response first = call(server, "/api/items", "192.0.2.1", "k1");
    assertThat(first.status()).isEqualTo(200);
    List<StructuredFields.Member> policies = StructuredFields.parseList(first.header("RateLimit-Policy"));
    assertThat(policies).extracting(StructuredFields.Member::value).containsExactly("per-ip", "per-key");
    List<StructuredFields.Member> limits = StructuredFields.parseList(first.header("RateLimit"));
    assertThat(limits.get(0).integer("r")).isEqualTo(2); // per-ip: 3, one spent
    assertThat(limits.get(1).integer("r")).isEqualTo(1); // per-key: 2, one spent

    assertThat(call(server, "/api/items", "192.0.2.1", "k1").status()).isEqualTo(200);
    // k1 has spent its 2: refused by per-key, whatever the address.
    assertRefusedBy(call(server, "/api/items", "192.0.2.1", "k1"), "per-key");
    assertRefusedBy(call(server, "/api/items", "192.0.2.2", "k1"), "per-key");
    // Address A has now been counted 3 times (not all or nothing: the refused request took its per-ip token):
    // refused by per-ip with a fresh key too.
    assertRefusedBy(call(server, "/api/items", "192.0.2.1", "k2"), "per-ip");
    // Address B with a fresh key passes both.
    assertThat(call(server, "/api/items", "192.0.2.2", "k2").status()).isEqualTo(200);
    assertThat(server.served).hasValue(3);
  }

  private static void assertRefusedBy(RawHttp.Response r, String rule) {
    assertThat(r.status()).isEqualTo(429);
    assertThat(JsonReader.object(r.body()).get("violated-policies")).isEqualTo(List.of(rule));
  }

  private static RawHttp.Response call(TestServer server, String path, String client, String apiKey)
      throws Exception {
    return RawHttp.get(server.port(), path, "X-Forwarded-For: " + client, "X-API-Key: " + apiKey);
  }
}
