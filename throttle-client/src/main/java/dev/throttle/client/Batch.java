package dev.throttle.client;

import java.util.concurrent.CompletableFuture;

/** A running batch (see {@link BatchRunner}). Thread-safe. */
public interface Batch {

  /**
   * Completed with the final stats once every job read has its result delivered (after cancellation too). Completed
   * exceptionally only if reading the input failed, after the jobs read before have their results.
   */
  CompletableFuture<Stats> completion();

  /**
   * Stops the batch: calls waiting or in flight are cancelled, and jobs not yet sent (including those still in the
   * input, which is read to its end) get a CANCELLED result. No job is left without a result.
   */
  void cancel();

  /** Whether {@link #cancel()} was called. */
  boolean isCancelled();

  /** The stats so far. */
  Stats stats();

  /** The progress so far. */
  Progress progress();
}
