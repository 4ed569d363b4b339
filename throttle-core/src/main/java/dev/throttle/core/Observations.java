package dev.throttle.core;

/** What {@link ObservedRateLimiter} and {@link ObservedStore} tell their {@link LimiterListener}. */
final class Observations {

  private Observations() {}

  /** Tells {@code listener} what {@code decision} says of a request of {@code cost} (allowed or refused). */
  static void tell(LimiterListener listener, long cost, Decision decision) {
    if (decision.isAllowed()) {
      listener.onAllowed(cost);
    } else {
      listener.onRefused(cost, decision.waitNanos());
    }
  }

  /**
   * Tells {@code listener} what {@code reservation} (of {@code cost}) comes to: refused, allowed at once, or, for one
   * that waits, waited or cancelled when its wait ends. Returns the reservation.
   */
  static Reservation tell(LimiterListener listener, long cost, Reservation reservation) {
    if (!reservation.isGranted()) {
      listener.onRefused(cost, reservation.decision().waitNanos());
    } else if (reservation.isReady()) {
      listener.onAllowed(cost);
    } else {
      long wait = reservation.delayNanos();
      reservation.whenReady().whenComplete((ready, error) -> {
        if (error == null) {
          listener.onWaited(cost, wait);
        } else {
          listener.onCancelled(cost);
        }
      });
    }
    return reservation;
  }
}
