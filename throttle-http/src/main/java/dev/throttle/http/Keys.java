package dev.throttle.http;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/** The built-in {@link KeyResolver}s and their text form. */
final class Keys {

  private Keys() {}

  static final String GRAMMAR = "ip, header:<Name>, principal, path or all; join parts with + (all of them) and "
      + "alternatives with | (the first present), for example header:X-API-Key|ip";

  /** The client address. */
  static final class Ip implements KeyResolver {
    private final TrustedProxies proxies;

    Ip(TrustedProxies proxies) {
      this.proxies = proxies;
    }

    @Override
    public String resolve(RequestView request) {
      List<String> forwarded = proxies.isNone() ? List.of() : request.headers(proxies.header().fieldName());
      String client = proxies.clientAddress(request.remoteAddress(), forwarded);
      return client == null ? null : "ip:" + client;
    }

    @Override
    public String toString() {
      return "ip";
    }
  }

  /** The first value of a header. */
  static final class Header implements KeyResolver {
    private final String name;
    private final String prefix;
    private final String what; // for the error about a value too long

    Header(String name) {
      if (name == null || !isToken(name)) {
        throw new IllegalArgumentException("'" + name + "' is not a valid header name (letters, digits and "
            + "!#$%&'*+-.^_`|~ only)");
      }
      this.name = name;
      this.prefix = "header:" + name.toLowerCase(Locale.ROOT) + ":";
      this.what = "the " + name + " header";
    }

    @Override
    public String resolve(RequestView request) {
      String value = request.header(name);
      if (value == null || value.isBlank()) {
        return null;
      }
      return prefix + bounded(what, value.strip());
    }

    @Override
    public String toString() {
      return "header:" + name;
    }
  }

  /** Resolvers without settings. */
  enum Simple implements KeyResolver {
    PRINCIPAL("principal") {
      @Override
      public String resolve(RequestView request) {
        String p = request.principal();
        if (p == null || p.isEmpty()) {
          return null;
        }
        return "principal:" + bounded("the user name", p);
      }
    },
    PATH("path") {
      @Override
      public String resolve(RequestView request) {
        return "path:" + bounded("the path", request.path());
      }
    },
    ALL("all") {
      @Override
      public String resolve(RequestView request) {
        return "all";
      }
    };

    private final String text;

    Simple(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Both keys; none if either is missing. */
  static final class Both implements KeyResolver {
    private final KeyResolver first;
    private final KeyResolver second;

    Both(KeyResolver first, KeyResolver second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public String resolve(RequestView request) {
      String a = first.resolve(request);
      if (a == null) {
        return null;
      }
      String b = second.resolve(request);
      return b == null ? null : a + "+" + b;
    }

    @Override
    public String toString() {
      return first + "+" + second;
    }
  }

  /** The first key present. */
  static final class Either implements KeyResolver {
    private final KeyResolver first;
    private final KeyResolver second;

    Either(KeyResolver first, KeyResolver second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public String resolve(RequestView request) {
      String a = first.resolve(request);
      return a != null ? a : second.resolve(request);
    }

    @Override
    public String toString() {
      return first + "|" + second;
    }
  }

  static KeyResolver parse(String text, TrustedProxies proxies) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("Invalid key '" + text + "': it is empty. Expected " + GRAMMAR);
    }
    KeyResolver result = null;
    for (String alternative : text.split("\\|", -1)) {
      KeyResolver parts = null;
      for (String part : alternative.split("\\+", -1)) {
        KeyResolver r = parsePart(text, part.strip(), proxies);
        parts = parts == null ? r : parts.and(r);
      }
      result = result == null ? parts : result.orElse(parts);
    }
    return result;
  }

  private static KeyResolver parsePart(String text, String part, TrustedProxies proxies) {
    String lower = part.toLowerCase(Locale.ROOT);
    if (lower.equals("ip")) {
      return KeyResolver.ip(proxies);
    }
    if (lower.equals("principal")) {
      return KeyResolver.principal();
    }
    if (lower.equals("path")) {
      return KeyResolver.path();
    }
    if (lower.equals("all")) {
      return KeyResolver.all();
    }
    if (lower.startsWith("header:")) {
      String name = part.substring("header:".length()).strip();
      try {
        return KeyResolver.header(name);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("Invalid key '" + text + "': " + e.getMessage(), e);
      }
    }
    String found = part.isEmpty() ? "an empty part" : "'" + part + "'";
    throw new IllegalArgumentException("Invalid key '" + text + "': unknown " + found + ". Expected " + GRAMMAR);
  }

  /** Whether {@code s} is an HTTP token (RFC 9110 field name). */
  static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** {@code value} escaped, or an {@link InvalidKeyException} naming {@code what} when it is too long to be a key. */
  private static String bounded(String what, String value) {
    if (value.length() > KeyResolver.MAX_VALUE_LENGTH) {
      throw new InvalidKeyException(what + " is " + value.length() + " characters long; at most "
          + KeyResolver.MAX_VALUE_LENGTH + " are accepted as a rate-limit key");
    }
    return escape(value);
  }

  /**
   * Percent-escapes everything outside printable ASCII, and {@code %} and {@code +} (the join character), so that a
   * key is printable, reads back unambiguously, and two different values never give the same key.
   */
  static String escape(String value) {
    int i = 0;
    while (i < value.length()) {
      char c = value.charAt(i);
      if (needsEscape(c)) {
        break;
      }
      i++;
    }
    if (i == value.length()) {
      return value;
    }
    StringBuilder sb = new StringBuilder(value.length() + 16).append(value, 0, i);
    byte[] rest = value.substring(i).getBytes(StandardCharsets.UTF_8);
    for (byte b : rest) {
      int c = b & 0xff;
      if (needsEscape(c)) {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      } else {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }

  private static boolean needsEscape(int c) {
    return c <= ' ' || c >= 127 || c == '%' || c == '+';
  }
}
