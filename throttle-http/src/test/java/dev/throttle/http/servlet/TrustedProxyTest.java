package dev.throttle.http.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.core.ManualClock;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.KeyResolver;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.TrustedProxies;
import dev.throttle.http.Verdict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-address limits over real sockets: the socket's peer is 127.0.0.1, and the forwarding header says the rest. */
class TrustedProxyTest {

  private final ManualClock clock = new ManualClock();
  private final List<Verdict> verdicts = Collections.synchronizedList(new ArrayList<>());

  private TestServer server(TrustedProxies proxies) throws Exception {
    HttpThrottle throttle = HttpThrottle.builder()
        .rule(Rule.builder("per-ip").limit("2/min").key(KeyResolver.ip(proxies)).build())
        .stores(StoreFactory.inMemory(100, clock, clock))
        .clock(clock)
        .onVerdict(verdicts::add)
        .build();
    return TestServer.start(new ThrottleFilter(throttle));
  }

  @Test
  void spoofedForwardedForFromAnUntrustedPeerIsIgnored() throws Exception {
    TestServer server = server(TrustedProxies.of("10.0.0.0/8")); // 127.0.0.1 is not among them
    try {
      int[] statuses = new int[4];
      for (int i = 0; i < 4; i++) {
        statuses[i] = RawHttp.get(server.port(), "/", "X-Forwarded-For: 198.51.100." + i).status();
      }
      assertThat(statuses).containsExactly(200, 200, 429, 429); // one bucket: the peer's
      assertThat(verdicts).extracting(Verdict::key).containsOnly("ip:127.0.0.1");
    } finally {
      server.close();
    }
  }

  @Test
  void forwardedForFromATrustedProxyNamesTheClient() throws Exception {
    TestServer server = server(TrustedProxies.of("127.0.0.1"));
    try {
      assertThat(RawHttp.get(server.port(), "/", "X-Forwarded-For: 198.51.100.1").status()).isEqualTo(200);
      assertThat(RawHttp.get(server.port(), "/", "X-Forwarded-For: 198.51.100.2").status()).isEqualTo(200);
      // A client that puts a fake address in front of its own: the proxy's entry (the rightmost) counts.
      assertThat(RawHttp.get(server.port(), "/", "X-Forwarded-For: 6.6.6.6, 198.51.100.1").status()).isEqualTo(200);
      assertThat(RawHttp.get(server.port(), "/", "X-Forwarded-For: 7.7.7.7, 198.51.100.1").status()).isEqualTo(429);
      // The proxy could not say who the client was: no key, so the rule's missing-key policy (shared) applies.
      assertThat(RawHttp.get(server.port(), "/", "X-Forwarded-For: unknown").status()).isEqualTo(200);
      assertThat(verdicts).extracting(Verdict::key).containsExactly("ip:198.51.100.1", "ip:198.51.100.2",
          "ip:198.51.100.1", "ip:198.51.100.1", "(none)");
    } finally {
      server.close();
    }
  }
}
