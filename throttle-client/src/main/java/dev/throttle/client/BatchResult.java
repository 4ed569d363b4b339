package dev.throttle.client;

import java.util.List;
import java.util.Objects;

/**
 * What {@link BatchRunner#run} returns: one {@link JobResult} per job, in input order, and the batch's {@link Stats}.
 * Immutable.
 */
public final class BatchResult<T> {

  private final List<JobResult<T>> results;
  private final Stats stats;

  BatchResult(List<JobResult<T>> results, Stats stats) {
    this.results = List.copyOf(results);
    this.stats = Objects.requireNonNull(stats, "stats");
  }

  /** One result per job, in input order (unmodifiable). */
  public List<JobResult<T>> results() {
    return results;
  }

  /** Counts by outcome and status, attempts, latencies, elapsed time, throughput, and the one-line summary. */
  public Stats stats() {
    return stats;
  }

  @Override
  public String toString() {
    return "BatchResult[" + results.size() + " results, " + stats + "]";
  }
}
