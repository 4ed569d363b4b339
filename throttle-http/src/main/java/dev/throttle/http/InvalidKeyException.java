package dev.throttle.http;

/**
 * A request's key cannot be used: too long, for example. The request is answered {@code 400 Bad Request} with this
 * message as the problem's {@code detail}, so the message must not contain request data: it names where the key comes
 * from and what is wrong, never the value.
 */
public final class InvalidKeyException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param safeMessage shown to the client; no request data in it */
  public InvalidKeyException(String safeMessage) {
    super(safeMessage);
  }
}
