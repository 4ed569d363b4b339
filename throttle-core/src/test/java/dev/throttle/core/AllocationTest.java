package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** tryAcquire on a one-bucket limit allocates nothing: measured with the JVM's per-thread allocation counter. */
class AllocationTest {

  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  @Test
  void tryAcquireAllocatesNothing() {
    RateLimiter granting = RateLimiter.of(Limit.parse("1000000000/s"));
    RateLimiter refusing = RateLimiter.of(Limit.parse("1/day"));
    refusing.tryAcquire();
    long sink = 0;
    for (int i = 0; i < 200_000; i++) { // warm up: interpreter and compilers
      sink += granting.tryAcquire() ? 1 : 0;
      sink += refusing.tryAcquire() ? 1 : 0;
    }
    long calls = 1_000_000;
    long before = allocatedBytes();
    for (int i = 0; i < calls; i++) {
      sink += granting.tryAcquire() ? 1 : 0;
      sink += refusing.tryAcquire() ? 1 : 0;
    }
    long allocated = allocatedBytes() - before;
    assertThat(sink).isPositive();
    // Even one small object per call would be 16 MB here; allow a few hundred bytes of measurement noise.
    assertThat(allocated).as("bytes allocated by %d calls", 2 * calls).isLessThan(1024);
  }
}
