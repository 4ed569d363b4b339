package dev.throttle.redis;

/** The core's keyed-limiter contract against Redis, through the {@code ...Async} methods. */
class RedisStoreAsyncContractTest extends RedisStoreContractTest {

  @Override
  protected boolean async() {
    return true;
  }
}
