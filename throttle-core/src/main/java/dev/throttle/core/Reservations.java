package dev.throttle.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The two reservations that never wait in a queue: ready at once, and not granted. */
final class Reservations {

  private Reservations() {}

  /** Ready at once: the tokens were taken when it was made. */
  static final class Immediate implements Reservation {
    private final Decision decision;

    Immediate(Decision decision) {
      this.decision = decision;
    }

    @Override
    public boolean isGranted() {
      return true;
    }

    @Override
    public Decision decision() {
      return decision;
    }

    @Override
    public Duration delay() {
      return Duration.ZERO;
    }

    @Override
    public long delayNanos() {
      return 0;
    }

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public CompletableFuture<Void> whenReady() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void await() {}

    @Override
    public boolean cancel() {
      return false;
    }

    @Override
    public String toString() {
      return "Reservation[ready, " + decision + "]";
    }
  }

  /** Not granted: the wait would have been longer than allowed. Nothing was queued or taken. */
  static final class Refused implements Reservation {
    private final Decision decision;

    Refused(Decision decision) {
      this.decision = decision;
    }

    private RateLimitExceededException exception() {
      return new RateLimitExceededException(
          "the wait of " + decision.waitTime() + " would exceed the maximum wait allowed", decision);
    }

    @Override
    public boolean isGranted() {
      return false;
    }

    @Override
    public Decision decision() {
      return decision;
    }

    @Override
    public Duration delay() {
      return decision.waitTime();
    }

    @Override
    public long delayNanos() {
      return decision.waitNanos();
    }

    @Override
    public boolean isReady() {
      return false;
    }

    @Override
    public CompletableFuture<Void> whenReady() {
      return CompletableFuture.failedFuture(exception());
    }

    @Override
    public void await() {
      throw exception();
    }

    @Override
    public boolean cancel() {
      return false;
    }

    @Override
    public String toString() {
      return "Reservation[not granted, " + decision + "]";
    }
  }
}
