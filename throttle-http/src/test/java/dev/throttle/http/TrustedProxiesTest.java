package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrustedProxiesTest {

  private final TrustedProxies proxies = TrustedProxies.of("10.0.0.0/8", "2001:db8::/32");

  @Test
  void headerFromAnUntrustedPeerIsIgnored() {
    assertThat(proxies.clientAddress("203.0.113.9", List.of("1.2.3.4"))).isEqualTo("203.0.113.9");
    assertThat(TrustedProxies.none().clientAddress("10.0.0.1", List.of("1.2.3.4"))).isEqualTo("10.0.0.1");
  }

  @Test
  void clientIsTheFirstUntrustedEntryFromTheRight() {
    // A client spoofing "6.6.6.6" in front: the proxy appends the real peer, which is what counts.
    assertThat(proxies.clientAddress("10.0.0.1", List.of("6.6.6.6, 198.51.100.4"))).isEqualTo("198.51.100.4");
    assertThat(proxies.clientAddress("10.0.0.1", List.of("6.6.6.6, 198.51.100.4, 10.0.0.2"))).isEqualTo("198.51.100.4");
    assertThat(proxies.clientAddress("10.0.0.1", List.of("6.6.6.6", "198.51.100.4", "10.9.9.9")))
        .isEqualTo("198.51.100.4"); // several header lines read as one list, in order
    assertThat(proxies.clientAddress("10.0.0.1", List.of("10.1.1.1, 10.2.2.2"))).isEqualTo("10.1.1.1"); // all trusted
    assertThat(proxies.clientAddress("::ffff:10.0.0.1", List.of("198.51.100.4"))).isEqualTo("198.51.100.4");
    assertThat(proxies.clientAddress("10.0.0.1", List.of("198.51.100.4:4711"))).isEqualTo("198.51.100.4");
    assertThat(proxies.clientAddress("10.0.0.1", List.of("[2001:db9::7]:4711"))).isEqualTo("2001:db9::7");
    assertThat(proxies.clientAddress("10.0.0.1", List.of("2001:DB9:0::7"))).isEqualTo("2001:db9::7");
    assertThat(proxies.clientAddress("10.0.0.1", List.of())).isEqualTo("10.0.0.1"); // no header: the proxy itself
  }

  @Test
  void unknownClientIsNoAddressAtAll() {
    assertThat(proxies.clientAddress("10.0.0.1", List.of("1.2.3.4, unknown"))).isNull();
    assertThat(proxies.clientAddress("10.0.0.1", List.of("1.2.3.4, "))).isNull();
    assertThat(proxies.clientAddress("10.0.0.1", List.of("evil.example"))).isNull();
    // Garbage to the left of the first untrusted hop is never looked at.
    assertThat(proxies.clientAddress("10.0.0.1", List.of("<script>, 198.51.100.4"))).isEqualTo("198.51.100.4");
    assertThat(proxies.clientAddress("not-an-address", List.of("198.51.100.4"))).isNull();
  }

  @Test
  void forwardedHeaderIsReadTheSameWay() {
    TrustedProxies fwd = proxies.via(TrustedProxies.Header.FORWARDED);
    assertThat(fwd.clientAddress("10.0.0.1", List.of("for=6.6.6.6, for=198.51.100.4;proto=https")))
        .isEqualTo("198.51.100.4");
    assertThat(fwd.clientAddress("10.0.0.1", List.of("for=\"[2001:db9:cafe::17]:4711\";by=10.0.0.1")))
        .isEqualTo("2001:db9:cafe::17");
    assertThat(fwd.clientAddress("10.0.0.1", List.of("For=\"198.51.100.4:80\"", "for=10.3.3.3")))
        .isEqualTo("198.51.100.4");
    assertThat(fwd.clientAddress("10.0.0.1", List.of("for=unknown"))).isNull();
    assertThat(fwd.clientAddress("10.0.0.1", List.of("for=_hidden"))).isNull();
    assertThat(fwd.clientAddress("10.0.0.1", List.of("proto=https"))).isNull(); // an element without for=
    assertThat(fwd.clientAddress("10.0.0.1", List.of("for=\"1.2.3.4"))).isNull(); // unterminated quote
    assertThat(fwd.clientAddress("10.0.0.1", List.of("for=\"a,b\", for=198.51.100.4"))).isEqualTo("198.51.100.4");
  }

  @Test
  void configurationErrorsNameTheEntry() {
    assertThatThrownBy(() -> TrustedProxies.parse("10.0.0.0/8, 10.0.0.1/8"))
        .hasMessageContaining("'10.0.0.1/8' has bits set");
    assertThatThrownBy(() -> TrustedProxies.parse("10.0.0.0/8,,127.0.0.1")).hasMessageContaining("empty entry");
    assertThat(TrustedProxies.parse(" ")).isEqualTo(TrustedProxies.none());
    assertThat(TrustedProxies.parse("127.0.0.1, ::1").blocks()).containsExactly("127.0.0.1", "::1");
  }
}
