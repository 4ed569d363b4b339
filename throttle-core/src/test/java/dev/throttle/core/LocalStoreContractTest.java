package dev.throttle.core;

/** The keyed-limiter contract against the in-process store, {@link LocalKeyedRateLimiter}, through its sync methods. */
class LocalStoreContractTest extends KeyedRateLimiterContract {

  @Override
  protected KeyedRateLimiter<String> newStore(Limit limit, ManualClock clock) {
    return KeyedRateLimiter.<String>builder(limit).clock(clock).scheduler(clock).build();
  }

  @Override
  protected boolean async() {
    return false;
  }

  @Override
  protected KeyedRateLimiter.Cancellation promisedCancellation() {
    return KeyedRateLimiter.Cancellation.EXACT;
  }
}
