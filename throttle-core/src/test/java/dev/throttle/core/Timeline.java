package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Records what happened when, on a {@link ManualClock}, and asserts the whole timeline at once (as Guava's tests do). */
public final class Timeline {

  private final ManualClock clock;
  private final long origin;
  private final List<String> events = new ArrayList<>();

  public Timeline(ManualClock clock) {
    this.clock = clock;
    this.origin = clock.nanoTime();
  }

  /** Records {@code what} at the clock's current time, as in {@code "ready A at 0.333333334"}. */
  public synchronized void record(String what) {
    events.add(what + " at " + seconds(clock.nanoTime() - origin));
  }

  public static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%d.%09d", nanos / 1_000_000_000L, nanos % 1_000_000_000L);
  }

  public synchronized void assertEvents(String... expected) {
    assertThat(events).containsExactly(expected);
    events.clear();
  }
}
