package dev.throttle.http;

import java.util.Objects;

/**
 * Finds the key a request is throttled by: who is calling (an address, an API key, a user), what is called (a path),
 * or a combination. Each distinct key has its own bucket.
 *
 * <p>The built-in resolvers, also written as text in configuration ({@link #parse}):
 *
 * <pre>
 *   ip                 the client address: the socket's peer, or the forwarded client when the peer is a trusted proxy
 *   header:X-API-Key   the first value of a header (an empty or blank value counts as none)
 *   principal          the authenticated user's name
 *   path               the request path
 *   all                one key for every request the rule matches: a limit for the route as a whole
 *   header:X-API-Key+path       both (a key per API key and path); none if either is missing
 *   header:X-API-Key|ip         the first that is there: the API key, else the address
 * </pre>
 *
 * <p>A resolver returns null when the request has no key (no such header, not authenticated, client address
 * unknown); the rule's {@link Rule.MissingKey} policy then applies. Built-in keys are written as
 * {@code kind:value} ({@code ip:192.0.2.7}, {@code header:x-api-key:abc}), so that different kinds never share a
 * bucket (an API key equal to somebody's address does not spend that address's tokens), and their values are
 * percent-escaped outside printable ASCII, so that keys are safe to log and to store anywhere. A value longer than
 * {@value #MAX_VALUE_LENGTH} characters is refused with {@link InvalidKeyException} (400): keys are held in memory or
 * in Redis, and a 100 KB header must not become a 100 KB key.
 *
 * <p>Implementations must be thread-safe and fast (they run on the request's thread for every request), and must
 * return keys of bounded length, throwing {@link InvalidKeyException} otherwise: every distinct key is held in the
 * store.
 */
@FunctionalInterface
public interface KeyResolver {

  /** The longest value (header, principal, path) a built-in resolver accepts as a key, in characters. */
  int MAX_VALUE_LENGTH = 256;

  /**
   * The request's key, or null when it has none.
   *
   * @throws InvalidKeyException when the request carries a key that cannot be used (answered with 400)
   */
  String resolve(RequestView request);

  /** The client address; forwarding headers are ignored (no trusted proxy). */
  static KeyResolver ip() {
    return ip(TrustedProxies.none());
  }

  /** The client address, read from forwarding headers only when the peer is one of {@code proxies}. */
  static KeyResolver ip(TrustedProxies proxies) {
    return new Keys.Ip(Objects.requireNonNull(proxies, "proxies"));
  }

  /**
   * The first value of the header {@code name}.
   *
   * @throws IllegalArgumentException if {@code name} is not a valid header name
   */
  static KeyResolver header(String name) {
    return new Keys.Header(name);
  }

  /** The authenticated user's name ({@link RequestView#principal()}). */
  static KeyResolver principal() {
    return Keys.Simple.PRINCIPAL;
  }

  /** The request path ({@link RequestView#path()}). */
  static KeyResolver path() {
    return Keys.Simple.PATH;
  }

  /** The same key for every request: the rule then limits its route as a whole. */
  static KeyResolver all() {
    return Keys.Simple.ALL;
  }

  /** This key and {@code other}'s together; none when either is missing. */
  default KeyResolver and(KeyResolver other) {
    return new Keys.Both(this, Objects.requireNonNull(other, "other"));
  }

  /** This key, or {@code other}'s when this request has none. */
  default KeyResolver orElse(KeyResolver other) {
    return new Keys.Either(this, Objects.requireNonNull(other, "other"));
  }

  /**
   * Reads the text form (see the class comment): alternatives separated by {@code |}, each one or more parts joined
   * by {@code +}.
   *
   * @param proxies used by {@code ip}
   * @throws IllegalArgumentException quoting the text and listing what is allowed
   */
  static KeyResolver parse(String text, TrustedProxies proxies) {
    return Keys.parse(text, proxies);
  }
}
