package dev.throttle.http;

import java.util.Locale;

/**
 * IP address literals, parsed strictly and without any name lookup: a value taken from a request header must never
 * cause a DNS query ({@code InetAddress.getByName("evil.example")} would), and must compare equal to the same address
 * written another way ({@code ::1} and {@code 0:0:0:0:0:0:0:1}, {@code ::ffff:192.0.2.1} and {@code 192.0.2.1}).
 */
final class Addresses {

  private Addresses() {}

  /**
   * The address in {@code text} as 4 bytes (IPv4, including IPv4-mapped IPv6) or 16 bytes (IPv6), or null when it is
   * not an IP literal. Accepts IPv6 in brackets and with a zone ({@code fe80::1%eth0}, the zone is ignored); rejects
   * IPv4 parts with leading zeros, which some parsers read as octal.
   */
  static byte[] parse(String text) {
    if (text == null || text.isEmpty() || text.length() > 64) {
      return null;
    }
    String s = text;
    if (s.charAt(0) == '[') {
      if (s.charAt(s.length() - 1) != ']') {
        return null;
      }
      s = s.substring(1, s.length() - 1);
    }
    int zone = s.indexOf('%');
    if (zone >= 0) {
      s = s.substring(0, zone);
    }
    if (s.indexOf(':') < 0) {
      return parseIpv4(s, 0, s.length());
    }
    byte[] v6 = parseIpv6(s);
    if (v6 == null) {
      return null;
    }
    if (isIpv4Mapped(v6)) {
      return new byte[] {v6[12], v6[13], v6[14], v6[15]};
    }
    return v6;
  }

  /** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as {@code ::}). */
  static String format(byte[] address) {
    if (address.length == 4) {
      return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "." + (address[3] & 0xff);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((address[2 * i] & 0xff) << 8) | (address[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not compressed (RFC 5952, 4.2.2)
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(groups[i]));
    }
    return sb.toString();
  }

  /** The canonical form of an address literal, or null when {@code text} is not one. */
  static String canonical(String text) {
    byte[] address = parse(text);
    return address == null ? null : format(address);
  }

  private static byte[] parseIpv4(String s, int from, int to) {
    byte[] out = new byte[4];
    int part = 0;
    int i = from;
    while (part < 4) {
      int start = i;
      int value = 0;
      while (i < to && i - start < 4 && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) {
        value = value * 10 + (s.charAt(i) - '0');
        i++;
      }
      int digits = i - start;
      if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && s.charAt(start) == '0')) {
        return null;
      }
      out[part++] = (byte) value;
      if (part < 4) {
        if (i >= to || s.charAt(i) != '.') {
          return null;
        }
        i++;
      }
    }
    return i == to ? out : null;
  }

  private static byte[] parseIpv6(String s) {
    byte[] out = new byte[16];
    int[] groups = new int[8];
    int count = 0;
    int gap = -1; // index in groups where '::' stands
    int i = 0;
    int n = s.length();
    if (s.startsWith("::")) {
      gap = 0;
      i = 2;
      if (i == n) {
        return out; // "::"
      }
    } else if (s.startsWith(":")) {
      return null;
    }
    boolean embeddedIpv4 = false;
    while (i < n) {
      if (count == 8) {
        return null;
      }
      int start = i;
      int value = 0;
      while (i < n && i - start < 5 && Character.digit(s.charAt(i), 16) >= 0 && s.charAt(i) < 128) {
        value = (value << 4) | Character.digit(s.charAt(i), 16);
        i++;
      }
      if (i < n && s.charAt(i) == '.') {
        // the last 32 bits written as IPv4
        if (count > 6) {
          return null;
        }
        byte[] v4 = parseIpv4(s, start, n);
        if (v4 == null) {
          return null;
        }
        groups[count++] = ((v4[0] & 0xff) << 8) | (v4[1] & 0xff);
        groups[count++] = ((v4[2] & 0xff) << 8) | (v4[3] & 0xff);
        embeddedIpv4 = true;
        i = n;
        break;
      }
      int digits = i - start;
      if (digits == 0 || digits > 4) {
        return null;
      }
      groups[count++] = value;
      if (i == n) {
        break;
      }
      if (s.charAt(i) != ':') {
        return null;
      }
      i++;
      if (i < n && s.charAt(i) == ':') {
        if (gap >= 0) {
          return null; // two '::'
        }
        gap = count;
        i++;
        if (i == n) {
          break;
        }
      } else if (i == n) {
        return null; // a trailing single ':'
      }
    }
    if (embeddedIpv4 && i != n) {
      return null;
    }
    if (gap < 0 ? count != 8 : count > 7) {
      return null;
    }
    int[] full = new int[8];
    if (gap < 0) {
      full = groups;
    } else {
      int tail = count - gap;
      System.arraycopy(groups, 0, full, 0, gap);
      System.arraycopy(groups, gap, full, 8 - tail, tail);
    }
    for (int g = 0; g < 8; g++) {
      out[2 * g] = (byte) (full[g] >>> 8);
      out[2 * g + 1] = (byte) full[g];
    }
    return out;
  }

  private static boolean isIpv4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }

  /** An address block: {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address. Immutable. */
  static final class Cidr {
    final byte[] network;
    final int prefix;
    final String text;

    private Cidr(byte[] network, int prefix) {
      this.network = network;
      this.prefix = prefix;
      int bits = network.length * 8;
      this.text = format(network) + (prefix == bits ? "" : "/" + prefix);
    }

    /**
     * Parses a block; a bare address is a block of one.
     *
     * @throws IllegalArgumentException quoting the text, when it is not an address or block, when the prefix length
     *     is out of range, or when host bits are set ({@code 10.0.0.1/8}: probably a typing mistake)
     */
    static Cidr parse(String text) {
      String t = text.trim();
      int slash = t.indexOf('/');
      String address = slash < 0 ? t : t.substring(0, slash);
      byte[] network = Addresses.parse(address);
      if (network == null) {
        throw new IllegalArgumentException("'" + text + "' is not an IP address or address block (examples: 10.0.0.0/8, "
            + "192.0.2.7, 2001:db8::/32)");
      }
      int bits = network.length * 8;
      int prefix = bits;
      if (slash >= 0) {
        String p = t.substring(slash + 1);
        if (!p.matches("[0-9]{1,3}")) {
          throw new IllegalArgumentException("'" + text + "': the prefix length must be a number from 0 to " + bits);
        }
        prefix = Integer.parseInt(p);
        if (prefix > bits) {
          throw new IllegalArgumentException("'" + text + "': the prefix length must be from 0 to " + bits
              + " for an " + (bits == 32 ? "IPv4" : "IPv6") + " address, got " + prefix);
        }
        // An IPv4-mapped IPv6 block names IPv4 addresses: its prefix counts the 96 bits of the mapping.
        if (address.indexOf(':') >= 0 && bits == 32) {
          throw new IllegalArgumentException("'" + text + "': write IPv4-mapped blocks as IPv4 ("
              + format(network) + "/...)");
        }
      }
      byte[] masked = mask(network, prefix);
      if (!java.util.Arrays.equals(masked, network)) {
        throw new IllegalArgumentException("'" + text + "' has bits set beyond its /" + prefix + " prefix; did you mean "
            + format(masked) + "/" + prefix + "?");
      }
      return new Cidr(network, prefix);
    }

    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      return java.util.Arrays.equals(mask(address, prefix), network);
    }

    private static byte[] mask(byte[] address, int prefix) {
      byte[] out = address.clone();
      for (int bit = prefix; bit < out.length * 8; bit++) {
        out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
      }
      return out;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Cidr c && c.text.equals(text);
    }

    @Override
    public int hashCode() {
      return text.hashCode();
    }

    @Override
    public String toString() {
      return text.toLowerCase(Locale.ROOT);
    }
  }
}
