package dev.throttle.core;

/** A request could not get its tokens within the wait it was allowed; {@link #decision()} says for how long not. */
public final class RateLimitExceededException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Decision decision;

  public RateLimitExceededException(String message, Decision decision) {
    super(message);
    this.decision = decision;
  }

  /** The refusal, with the wait until the same request would pass. */
  public Decision decision() {
    return decision;
  }
}
