package dev.throttle.http;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Which direct peers are proxies of your own, whose {@code X-Forwarded-For} (or {@code Forwarded}) header may be
 * believed, and how to find the client's address in it.
 *
 * <p>A forwarding header is only as trustworthy as whoever wrote it. Anyone can send {@code X-Forwarded-For: 1.2.3.4};
 * only the entries appended by your own proxies are true. So the client address is found like this:
 *
 * <ol>
 *   <li>If the direct peer (the socket's address) is not a trusted proxy, it is the client, and the header is
 *       ignored whatever it says.
 *   <li>Otherwise the header's entries are read from the right (the entry the nearest proxy appended) leftwards,
 *       skipping trusted proxies; the first entry that is not a trusted proxy is the client. If every entry is a
 *       trusted proxy, the leftmost is the client.
 *   <li>If that entry is not an IP address ({@code unknown}, an obfuscated {@code Forwarded} node, garbage), or the
 *       header is missing, the client cannot be told: the request has <em>no key</em> for {@code ip}, and the rule's
 *       {@link Rule.MissingKey} policy applies.
 * </ol>
 *
 * Addresses are compared in canonical form: {@code ::ffff:192.0.2.1} is {@code 192.0.2.1}, and {@code ::1} is
 * {@code 0:0:0:0:0:0:0:1}. Nothing here ever looks a name up in DNS.
 *
 * <p>If your container already rewrites the remote address from these headers (Jetty's
 * {@code ForwardedRequestCustomizer}, Tomcat's {@code RemoteIpValve}, Spring Boot's
 * {@code server.forward-headers-strategy}), use {@link #none()} here: the header would otherwise be applied twice.
 *
 * <p>Immutable and thread-safe.
 */
public final class TrustedProxies {

  /** The header proxies use to pass the client's address on. */
  public enum Header {
    /** {@code X-Forwarded-For: client, proxy1, proxy2} (the de-facto standard). */
    X_FORWARDED_FOR("X-Forwarded-For"),
    /** {@code Forwarded: for=client, for=proxy1} (RFC 7239). */
    FORWARDED("Forwarded");

    private final String fieldName;

    Header(String fieldName) {
      this.fieldName = fieldName;
    }

    /** The field name as sent, for example {@code X-Forwarded-For}. */
    public String fieldName() {
      return fieldName;
    }
  }

  private static final TrustedProxies NONE = new TrustedProxies(List.of(), Header.X_FORWARDED_FOR);

  private final List<Addresses.Cidr> blocks;
  private final Header header;

  private TrustedProxies(List<Addresses.Cidr> blocks, Header header) {
    this.blocks = blocks;
    this.header = header;
  }

  /** No trusted proxy: the client is always the direct peer, and forwarding headers are ignored. */
  public static TrustedProxies none() {
    return NONE;
  }

  /**
   * Proxies at these addresses or blocks ({@code 10.0.0.0/8}, {@code 192.0.2.7}, {@code 2001:db8::/32}), passing the
   * client on in {@code X-Forwarded-For}.
   *
   * @throws IllegalArgumentException quoting the entry that is not an address or block, has a prefix out of range,
   *     or has bits set beyond its prefix
   */
  public static TrustedProxies of(String... blocks) {
    return of(Arrays.asList(blocks));
  }

  /** {@link #of(String...)} from a list. */
  public static TrustedProxies of(List<String> blocks) {
    List<Addresses.Cidr> parsed = new ArrayList<>();
    for (String block : blocks) {
      Objects.requireNonNull(block, "block");
      parsed.add(Addresses.Cidr.parse(block));
    }
    return new TrustedProxies(Collections.unmodifiableList(parsed), Header.X_FORWARDED_FOR);
  }

  /**
   * Reads a comma-separated list of blocks, as in a configuration file: {@code "10.0.0.0/8, 127.0.0.1"}. Blank text
   * means {@link #none()}.
   *
   * @throws IllegalArgumentException naming the invalid entry
   */
  public static TrustedProxies parse(String text) {
    if (text == null || text.isBlank()) {
      return NONE;
    }
    List<String> entries = new ArrayList<>();
    for (String part : text.split(",")) {
      if (part.isBlank()) {
        throw new IllegalArgumentException("empty entry in the trusted proxies '" + text + "'");
      }
      entries.add(part.trim());
    }
    return of(entries);
  }

  /** The same proxies, passing the client on in {@code header} instead. */
  public TrustedProxies via(Header header) {
    return new TrustedProxies(blocks, Objects.requireNonNull(header, "header"));
  }

  /** Whether no proxy is trusted. */
  boolean isNone() {
    return blocks.isEmpty();
  }

  /** The header read when the peer is trusted. */
  public Header header() {
    return header;
  }

  /** The trusted blocks, in canonical text form. */
  public List<String> blocks() {
    List<String> out = new ArrayList<>();
    for (Addresses.Cidr c : blocks) {
      out.add(c.toString());
    }
    return out;
  }

  /** Whether {@code address} (an IP literal, any form) is a trusted proxy; false for anything that is not an address. */
  public boolean isTrusted(String address) {
    byte[] a = Addresses.parse(address);
    return a != null && isTrusted(a);
  }

  private boolean isTrusted(byte[] address) {
    for (Addresses.Cidr c : blocks) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The client's address for a request from {@code peer} carrying {@code headerValues} (every line of
   * {@link #header()}, in order), in canonical form; null when it cannot be told (see the class comment).
   */
  public String clientAddress(String peer, List<String> headerValues) {
    byte[] direct = Addresses.parse(peer);
    if (direct == null) {
      return null;
    }
    if (!isTrusted(direct) || headerValues.isEmpty()) {
      return Addresses.format(direct);
    }
    List<String> hops = header == Header.X_FORWARDED_FOR ? xForwardedFor(headerValues) : forwardedFor(headerValues);
    if (hops.isEmpty()) {
      return Addresses.format(direct);
    }
    for (int i = hops.size() - 1; i >= 0; i--) {
      String hop = hops.get(i);
      byte[] address = hop == null ? null : Addresses.parse(stripPort(hop));
      if (address == null) {
        return null; // the first hop we cannot vouch for is not an address: the client is unknown
      }
      if (i == 0 || !isTrusted(address)) {
        return Addresses.format(address);
      }
    }
    throw new AssertionError("unreachable");
  }

  /** The entries of X-Forwarded-For, every line in order, split at commas. */
  private static List<String> xForwardedFor(List<String> lines) {
    List<String> hops = new ArrayList<>();
    for (String line : lines) {
      for (String entry : line.split(",", -1)) {
        String e = entry.trim();
        hops.add(e.isEmpty() ? null : e);
      }
    }
    return hops;
  }

  /** The {@code for=} value of each element of Forwarded (RFC 7239), null for an element without a usable one. */
  private static List<String> forwardedFor(List<String> lines) {
    List<String> hops = new ArrayList<>();
    for (String line : lines) {
      int i = 0;
      int n = line.length();
      String forValue = null;
      boolean elementBad = false;
      while (i <= n) {
        // one pair: token "=" (token / quoted-string), then ';' (next pair), ',' (next element) or the end
        while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
          i++;
        }
        int nameStart = i;
        while (i < n && line.charAt(i) != '=' && line.charAt(i) != ';' && line.charAt(i) != ',') {
          i++;
        }
        String name = line.substring(nameStart, i).trim().toLowerCase(Locale.ROOT);
        String value = null;
        if (i < n && line.charAt(i) == '=') {
          i++;
          if (i < n && line.charAt(i) == '"') {
            StringBuilder sb = new StringBuilder();
            i++;
            boolean closed = false;
            while (i < n) {
              char c = line.charAt(i++);
              if (c == '\\' && i < n) {
                sb.append(line.charAt(i++));
              } else if (c == '"') {
                closed = true;
                break;
              } else {
                sb.append(c);
              }
            }
            value = closed ? sb.toString() : null;
            elementBad |= !closed;
          } else {
            int valueStart = i;
            while (i < n && line.charAt(i) != ';' && line.charAt(i) != ',') {
              i++;
            }
            value = line.substring(valueStart, i).trim();
          }
          while (i < n && line.charAt(i) != ';' && line.charAt(i) != ',') {
            elementBad |= line.charAt(i) != ' ' && line.charAt(i) != '\t';
            i++;
          }
        } else if (!name.isEmpty()) {
          elementBad = true;
        }
        if (name.equals("for")) {
          elementBad |= forValue != null; // a second for= in one element
          forValue = value;
        }
        if (i >= n || line.charAt(i) == ',') {
          hops.add(elementBad ? null : forValue);
          forValue = null;
          elementBad = false;
          if (i >= n) {
            break;
          }
        }
        i++;
      }
    }
    return hops;
  }

  /** {@code 192.0.2.7:4711} and {@code [2001:db8::1]:4711} carry a port; a bare IPv6 address does not. */
  private static String stripPort(String hop) {
    if (hop.startsWith("[")) {
      int close = hop.indexOf(']');
      return close < 0 ? hop : hop.substring(0, close + 1);
    }
    int colon = hop.indexOf(':');
    if (colon >= 0 && colon == hop.lastIndexOf(':')) {
      return hop.substring(0, colon);
    }
    return hop;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrustedProxies t && t.blocks.equals(blocks) && t.header == header;
  }

  @Override
  public int hashCode() {
    return blocks.hashCode() * 31 + header.hashCode();
  }

  @Override
  public String toString() {
    return blocks.isEmpty() ? "no trusted proxies" : "trusted proxies " + blocks + " via " + header.fieldName;
  }
}
