package dev.throttle.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The state of a one-bucket limit (for a limiter, or for one key): the level of {@link BucketMath}, changed by
 * compare-and-set. A cell never changes epoch: moving to a newer epoch, making room for waiters
 * ({@link LockedBucket}) and eviction all <em>seal</em> the cell and put another object in its place, so a
 * compare-and-set on a sealed cell always fails and its callers look again.
 *
 * <p>Small on purpose (24 bytes with compressed class pointers: the {@code int} fits beside the object header), as
 * a per-key limiter keeps one per key.
 */
final class Cell {

  /** The cell has been replaced; read the slot again. No valid level is this low. */
  static final long SEALED = Long.MIN_VALUE + 1;

  private static final VarHandle LEVEL;

  static {
    try {
      LEVEL = MethodHandles.lookup().findVarHandle(Cell.class, "level", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The epoch of the level, in quanta since the limiter's creation (low 32 bits; see {@link Engine#epochOf}). */
  final int epoch;

  volatile long level;

  Cell(int epoch, long level) {
    this.epoch = epoch;
    this.level = level;
  }

  boolean compareAndSet(long expected, long update) {
    return LEVEL.compareAndSet(this, expected, update);
  }

  /** Seals the cell if it is not sealed yet, and returns the level it had; {@link #SEALED} if another thread won. */
  long seal() {
    while (true) {
      long s = level;
      if (s == SEALED) {
        return SEALED;
      }
      if (compareAndSet(s, SEALED)) {
        return s;
      }
    }
  }

  @Override
  public String toString() {
    long s = level;
    return "Cell[epoch " + epoch + ", " + (s == SEALED ? "sealed" : "level " + s) + "]";
  }
}
