package dev.throttle.core;

/** The store contract against the in-process store, {@link KeyedRateLimiter#asStore()}. */
class InProcessStoreContractTest extends RateLimitStoreContract {

  @Override
  protected RateLimitStore<String> newStore(Limit limit, ManualClock clock) {
    return KeyedRateLimiter.<String>builder(limit).clock(clock).scheduler(clock).build().asStore();
  }

  @Override
  protected RateLimitStore.Cancellation promisedCancellation() {
    return RateLimitStore.Cancellation.EXACT;
  }
}
