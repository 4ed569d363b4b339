package dev.throttle.core;

/** The keyed-limiter contract against the in-process store, through its {@code ...Async} methods. */
class LocalStoreAsyncContractTest extends LocalStoreContractTest {

  @Override
  protected boolean async() {
    return true;
  }
}
