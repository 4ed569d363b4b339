package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AddressesTest {

  @Test
  void sameAddressWrittenDifferentlyHasOneCanonicalForm() {
    assertThat(Addresses.canonical("192.0.2.7")).isEqualTo("192.0.2.7");
    assertThat(Addresses.canonical("::1")).isEqualTo("::1");
    assertThat(Addresses.canonical("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(Addresses.canonical("[0:0:0:0:0:0:0:1]")).isEqualTo("::1");
    assertThat(Addresses.canonical("2001:DB8:0:0:1:0:0:1")).isEqualTo("2001:db8::1:0:0:1");
    assertThat(Addresses.canonical("2001:db8:0:0:0:0:2:1")).isEqualTo("2001:db8::2:1");
    assertThat(Addresses.canonical("2001:db8:0:1:1:1:1:1")).isEqualTo("2001:db8:0:1:1:1:1:1"); // one zero group stays
    assertThat(Addresses.canonical("::ffff:192.0.2.7")).isEqualTo("192.0.2.7"); // dual-stack sockets map IPv4
    assertThat(Addresses.canonical("::ffff:c000:0207")).isEqualTo("192.0.2.7");
    assertThat(Addresses.canonical("fe80::1%eth0")).isEqualTo("fe80::1");
    assertThat(Addresses.canonical("::")).isEqualTo("::");
    assertThat(Addresses.canonical("1::")).isEqualTo("1::");
    assertThat(Addresses.canonical("64:ff9b::192.0.2.33")).isEqualTo("64:ff9b::c000:221");
  }

  @Test
  void anythingThatIsNotALiteralIsRefusedWithoutALookup() {
    for (String bad : new String[] {"", "localhost", "evil.example", "unknown", "_hidden", "1.2.3", "1.2.3.4.5",
        "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1:2", "1:2:3:4:5:6:7:", "12345::",
        "::ffff:1.2.3", "1.2.3.4:80", "[::1", "::1]", "g::1", "１.２.３.４", "1.2.3.4 "}) {
      assertThat(Addresses.parse(bad)).as(bad).isNull();
    }
  }

  @Test
  void blocksContainTheirAddressesOnly() {
    Addresses.Cidr ten = Addresses.Cidr.parse("10.0.0.0/8");
    assertThat(ten.contains(Addresses.parse("10.255.0.1"))).isTrue();
    assertThat(ten.contains(Addresses.parse("11.0.0.1"))).isFalse();
    assertThat(ten.contains(Addresses.parse("::ffff:10.1.2.3"))).isTrue();
    assertThat(ten.contains(Addresses.parse("::1"))).isFalse();
    Addresses.Cidr v6 = Addresses.Cidr.parse("2001:db8::/32");
    assertThat(v6.contains(Addresses.parse("2001:db8:ffff::1"))).isTrue();
    assertThat(v6.contains(Addresses.parse("2001:db9::1"))).isFalse();
    assertThat(Addresses.Cidr.parse("192.0.2.7").contains(Addresses.parse("192.0.2.7"))).isTrue();
    assertThat(Addresses.Cidr.parse("192.0.2.7").contains(Addresses.parse("192.0.2.8"))).isFalse();
    assertThat(Addresses.Cidr.parse("0.0.0.0/0").contains(Addresses.parse("203.0.113.1"))).isTrue();
  }

  @Test
  void invalidBlocksSayWhatIsWrong() {
    assertThatThrownBy(() -> Addresses.Cidr.parse("10.0.0.1/8"))
        .hasMessageContaining("'10.0.0.1/8' has bits set beyond its /8 prefix; did you mean 10.0.0.0/8?");
    assertThatThrownBy(() -> Addresses.Cidr.parse("10.0.0.0/33"))
        .hasMessageContaining("the prefix length must be from 0 to 32 for an IPv4 address, got 33");
    assertThatThrownBy(() -> Addresses.Cidr.parse("proxy.internal"))
        .hasMessageContaining("'proxy.internal' is not an IP address or address block");
    assertThatThrownBy(() -> Addresses.Cidr.parse("10.0.0.0/x")).hasMessageContaining("prefix length must be a number");
  }
}
