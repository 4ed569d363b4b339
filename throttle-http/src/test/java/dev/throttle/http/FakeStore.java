package dev.throttle.http;

import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.Limit;
import dev.throttle.core.Reservation;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A store for tests that shape how answers arrive (late, failed, recorded): a test overrides the async methods the
 * throttle calls ({@link #decideAsync}, {@link #reserveAsync}); the sync forms join them, as a remote store's do.
 */
public abstract class FakeStore implements KeyedRateLimiter<String> {

  private final Limit limit;

  protected FakeStore(Limit limit) {
    this.limit = limit;
  }

  @Override
  public Limit limit() {
    return limit;
  }

  @Override
  public CompletableFuture<Decision> decideAsync(String key, long cost) {
    throw new AssertionError("not expected: decide");
  }

  @Override
  public CompletableFuture<Reservation> reserveAsync(String key, long cost, Duration maxWait) {
    throw new AssertionError("not expected: reserve");
  }

  @Override
  public CompletableFuture<Decision> estimateAsync(String key, long cost) {
    throw new AssertionError("not expected: estimate");
  }

  @Override
  public Decision decide(String key, long cost) {
    return decideAsync(key, cost).join();
  }

  @Override
  public Decision estimate(String key, long cost) {
    return estimateAsync(key, cost).join();
  }

  @Override
  public Reservation reserve(String key, long cost, Duration maxWait) {
    return reserveAsync(key, cost, maxWait).join();
  }

  @Override
  public Cancellation cancellation() {
    return Cancellation.EXACT;
  }

  @Override
  public Stats stats() {
    return Map::of;
  }
}
