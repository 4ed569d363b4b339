package dev.throttle.gateway;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What RFC 9112 tells a server to refuse in a request head that Vert.x (Netty) passes on: checked before the request
 * is decided or proxied, so that the gateway and its upstream can never read one request's bytes differently.
 *
 * <ul>
 *   <li>{@code Transfer-Encoding} (6.1, 6.3): only {@code chunked}, once, is accepted. Chunked not the final coding
 *       (for example {@code gzip}, {@code xchunked}) leaves the body's length unknown: 400, and the connection closes,
 *       so that the body cannot be read as a next request. A coding before chunked ({@code gzip, chunked}) is not
 *       implemented: 501. Any Transfer-Encoding in an HTTP/1.0 request, or beside a Content-Length: 400.
 *   <li>{@code Content-Length} (6.2, 6.3): exactly one field of decimal digits; a list (even {@code 3, 3}) is 400.
 *   <li>The request target (3.2) is visible ASCII, and no field name is empty (5.1).
 *   <li>{@code Host} (3.2): exactly one in an HTTP/1.1 request (at most one in HTTP/1.0), whose value is empty or
 *       {@code uri-host [":" port]} (RFC 3986): anything else is 400.
 * </ul>
 *
 * Netty refuses the rest itself (a space before a colon, a malformed chunk, bare CR or LF, oversized parts), and
 * replaces obsolete line folding with a space, which RFC 9112 5.2 allows in place of refusing.
 */
final class Framing {

  /** A request the gateway answers itself, then closes the connection. */
  record Refusal(int status, Metrics.RequestError kind, String detail) {}

  private Framing() {}

  /** Why the request must be refused, or null when its head is sound. */
  static Refusal check(HttpVersion version, String target, MultiMap headers) {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        return bad("the request target has a character that is not visible ASCII");
      }
    }
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().isEmpty()) {
        return bad("a field has no name");
      }
    }
    List<String> te = headers.getAll("Transfer-Encoding");
    List<String> cl = headers.getAll("Content-Length");
    if (!te.isEmpty()) {
      Refusal r = transferEncoding(version, te, !cl.isEmpty());
      if (r != null) {
        return r;
      }
    }
    if (cl.size() > 1 || (cl.size() == 1 && !isDigits(cl.get(0).strip()))) {
      return bad("Content-Length must be one decimal number");
    }
    List<String> host = headers.getAll("Host");
    if (host.size() > 1) {
      return bad("the request has more than one Host field");
    }
    if (host.isEmpty()) {
      return version == HttpVersion.HTTP_1_0 ? null : bad("an HTTP/1.1 request needs a Host field");
    }
    return isHost(host.get(0).strip()) ? null : bad("the Host field is not host[:port]");
  }

  private static Refusal transferEncoding(HttpVersion version, List<String> fields, boolean withLength) {
    if (version == HttpVersion.HTTP_1_0) {
      return bad("Transfer-Encoding is not defined in HTTP/1.0");
    }
    if (withLength) {
      return bad("a request cannot have both Transfer-Encoding and Content-Length");
    }
    List<String> codings = new ArrayList<>();
    for (String f : fields) {
      for (String c : f.split(",", -1)) {
        codings.add(c.strip().toLowerCase(Locale.ROOT));
      }
    }
    if (!codings.get(codings.size() - 1).equals("chunked")) {
      return bad("chunked must be the final transfer coding (the body's length is unknown otherwise)");
    }
    if (codings.indexOf("chunked") != codings.size() - 1) {
      return bad("chunked can be applied only once");
    }
    if (codings.size() > 1) {
      return new Refusal(501, Metrics.RequestError.NOT_IMPLEMENTED, "the transfer codings "
          + codings.subList(0, codings.size() - 1) + " are not implemented; send the body chunked only");
    }
    return null;
  }

  private static Refusal bad(String detail) {
    return new Refusal(400, Metrics.RequestError.BAD_REQUEST, detail + ".");
  }

  private static boolean isDigits(String s) {
    if (s.isEmpty() || s.length() > 18) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** Empty, or {@code uri-host [":" port]}: an IP literal in brackets, or a reg-name (which covers IPv4). */
  static boolean isHost(String v) {
    if (v.isEmpty()) {
      return true;
    }
    String host = v;
    String port = "";
    if (v.startsWith("[")) {
      int close = v.indexOf(']');
      if (close < 0) {
        return false;
      }
      host = v.substring(1, close);
      String rest = v.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          return false;
        }
        port = rest.substring(1);
      }
      if (host.isEmpty() || !host.chars().allMatch(c -> isHex(c) || c == ':' || c == '.' || c == 'v' || c == 'V')) {
        return false;
      }
    } else {
      int colon = v.indexOf(':');
      if (colon >= 0) {
        host = v.substring(0, colon);
        port = v.substring(colon + 1);
      }
      for (int i = 0; i < host.length(); i++) {
        if (!isRegNameChar(host.charAt(i))) {
          return false;
        }
      }
    }
    return port.isEmpty() || isDigits(port);
  }

  private static boolean isHex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** RFC 3986 reg-name: unreserved, pct-encoded ('%' is let through, its digits are unreserved), sub-delims. */
  private static boolean isRegNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "-._~%!$&'()*+,;=".indexOf(c) >= 0;
  }
}
