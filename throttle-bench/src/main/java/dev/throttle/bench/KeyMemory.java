package dev.throttle.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Memory per key: the heap a per-key limiter holds for {@value PerKey#KEYS} keys, for each {@link KeyedLibrary},
 * each in a JVM of its own ({@link Child}, serial GC). The heap in use after a full collection with every key held,
 * less the heap before the limiter was built (the boxed keys already exist then, so they are not counted), divided
 * by the keys. The limit is 10/min burst 10, so that no bucket refills to full (and may be dropped) while the keys
 * are created and counted; the run checks that every key is held.
 *
 * <p>{@code java -cp benchmarks.jar dev.throttle.bench.KeyMemory}, or {@code ./scripts/bench key-memory}.
 */
public final class KeyMemory {

  private KeyMemory() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--child")) {
      child(KeyedLibrary.of(args[1]));
      return;
    }
    Report report = new Report("key-memory");
    report.line("heap per key with %,d keys held (10/min burst 10 per key; keys not counted), each library in its "
        + "own JVM (-Xmx2g, serial GC)", PerKey.KEYS);
    List<List<String>> rows = new ArrayList<>();
    rows.add(Report.row("library", "keys held", "bytes per key", "Throttle / it (below 1: Throttle smaller)"));
    double throttle = Double.NaN;
    for (KeyedLibrary library : KeyedLibrary.values()) {
      Map<String, String> r = Child.run(KeyMemory.class, List.of("-Xms2g", "-Xmx2g", "-XX:+UseSerialGC"), "--child",
          library.id);
      double perKey = Double.parseDouble(r.get("bytesPerKey"));
      if (library == KeyedLibrary.THROTTLE) {
        throttle = perKey;
      }
      rows.add(Report.row(library.id, String.format("%,d", Long.parseLong(r.get("keys"))), Report.num(perKey),
          Report.ratio(throttle, perKey)));
      report.line("  %-18s %s  (%s)", library.id, r, Report.load());
    }
    report.line("");
    report.table(rows);
    report.save();
  }

  private static void child(KeyedLibrary library) throws InterruptedException {
    Long[] keys = PerKey.shuffledKeys(PerKey.KEYS, 42);
    long before = Child.usedHeapAfterGc();
    KeyedLibrary.KeyedContender limiter = library.create(10, 10);
    for (Long key : keys) {
      if (!limiter.tryAcquire(key)) {
        throw new IllegalStateException(library.id + " refused the first request of key " + key);
      }
    }
    long after = Child.usedHeapAfterGc();
    long held = limiter.size();
    if (held != keys.length) {
      throw new IllegalStateException(library.id + " holds " + held + " keys, expected " + keys.length);
    }
    Child.result("keys", held);
    Child.result("bytesPerKey", (after - before) / (double) held);
  }
}
