package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jol.info.ClassLayout;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.vm.VM;

/**
 * Measures the memory a per-key limiter takes for each key, beyond the key itself, with JOL (it walks the object
 * graph and sizes each object as this JVM lays it out). The figure goes to docs/BENCHMARKS.md.
 */
class KeyedMemoryTest {

  @ParameterizedTest
  @ValueSource(ints = {150_000, 200_000})
  void aKeyCostsAboutSixtyFourBytesBesidesTheKey(int n) throws Exception {
    ManualClock clock = new ManualClock();
    LocalKeyedRateLimiter<Long> limiter = KeyedRateLimiter.<Long>builder(Limit.parse("100/s burst 20"))
        .clock(clock).scheduler(clock).build();
    List<Long> keys = new ArrayList<>(n);
    for (long i = 0; i < n; i++) {
      keys.add(i * 1_000_003L); // not from the Long cache
    }
    for (Long key : keys) {
      limiter.tryAcquire(key, 1); // not full: none of them is swept
    }
    assertThat(limiter.size()).isEqualTo(n);

    Field statesField = LocalKeyedRateLimiter.class.getDeclaredField("states");
    statesField.setAccessible(true);
    Object states = statesField.get(limiter);
    GraphLayout map = GraphLayout.parseInstance(states);
    long mapBytes = map.totalSize();
    long keyBytes = VM.current().sizeOf(keys.get(0)) * n;
    System.out.println(map.toFootprint());
    double perKey = (double) (mapBytes - keyBytes) / n;
    long cellBytes = ClassLayout.parseClass(Cell.class).instanceSize();

    System.out.printf(Locale.ROOT, "per-key memory: %.1f bytes per key beyond the key (%d keys; Cell %d bytes; "
        + "map %d bytes in all, keys %d bytes)%n", perKey, n, cellBytes, mapBytes, keyBytes);
    System.out.println(ClassLayout.parseClass(Cell.class).toPrintable());
    assertThat(cellBytes).as("a cell: header, int epoch, long level").isLessThanOrEqualTo(24);
    // ConcurrentHashMap node 32 + cell 24 + a share of the table: 4 bytes a slot, 1.33 to 2.67 slots a key.
    assertThat(perKey).isLessThanOrEqualTo(32 + 24 + 4 * 2.67);
  }
}
