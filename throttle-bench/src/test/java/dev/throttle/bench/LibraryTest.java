package dev.throttle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The limiters compared are built as the benchmarks claim: a fresh limiter of 1/s with burst 5 lets through at once
 * what its library's documentation says (the burst for Throttle, Bucket4j and Resilience4j; one permit for Guava,
 * which starts with nothing stored, and for Failsafe's smooth limiter), then refuses.
 */
class LibraryTest {

  private static final Map<Library, Long> AT_ONCE = Map.of(
      Library.THROTTLE, 5L,
      Library.BUCKET4J, 5L,
      Library.RESILIENCE4J, 5L,
      Library.GUAVA, 1L,
      Library.FAILSAFE, 1L);

  @Test
  void freshLimitersGrantWhatTheirLibrarySaysThenRefuse() {
    for (Library library : Library.LIMITERS) {
      Library.Contender limiter = library.create(1, 5, /* blocking= */ false);
      long start = System.nanoTime();
      long granted = 0;
      for (int i = 0; i < 20; i++) {
        granted += limiter.tryAcquire() ? 1 : 0;
      }
      // A refill of 1/s may add a permit if this thread was descheduled for a second or more.
      long refills = (System.nanoTime() - start) / 1_000_000_000L + 1;
      assertThat(granted).as("%s: %s", library, limiter.config())
          .isBetween(AT_ONCE.get(library), AT_ONCE.get(library) + refills - 1);
      assertThat(limiter.burst()).as("%s burst", library).isPositive();
    }
  }

  @Test
  void theFloorIsNotALimiter() {
    Library.Contender floor = Library.FLOOR.create(1, 1, false);
    assertThat(floor.tryAcquire()).isTrue(); // one thread: its compare-and-set always succeeds
    assertThat(floor.tryAcquire()).isTrue();
    assertThatThrownBy(floor::acquire).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void librariesAreFoundByTheirId() {
    for (Library library : Library.values()) {
      assertThat(Library.of(library.id)).isSameAs(library);
    }
    assertThatThrownBy(() -> Library.of("ratelimitj")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'ratelimitj'").hasMessageContaining("bucket4j");
  }

  @Test
  void perKeyLimitersKeepABucketPerKey() {
    for (KeyedLibrary library : KeyedLibrary.values()) {
      KeyedLibrary.KeyedContender limiter = library.create(1, 2); // 1 per minute, burst 2
      long first = 0;
      for (int i = 0; i < 5; i++) {
        first += limiter.tryAcquire(1L) ? 1 : 0;
      }
      // Guava's limiter starts with no stored permit: 1 at once; the others hold their burst of 2.
      assertThat(first).as(library.id).isEqualTo(library == KeyedLibrary.GUAVA_CAFFEINE ? 1 : 2);
      assertThat(limiter.tryAcquire(2L)).as("%s: another key has its own bucket", library.id).isTrue();
      assertThat(limiter.size()).as(library.id).isEqualTo(2);
      assertThat(KeyedLibrary.of(library.id)).isSameAs(library);
    }
  }
}
