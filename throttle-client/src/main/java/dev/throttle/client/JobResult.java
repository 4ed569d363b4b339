package dev.throttle.client;

import java.util.Objects;

/**
 * The result of one {@link Job} in a batch: its position in the input (from 0), the job, and its {@link Outcome}.
 * Immutable.
 */
public final class JobResult<T> {

  private final long index;
  private final Job job;
  private final Outcome<T> outcome;

  JobResult(long index, Job job, Outcome<T> outcome) {
    this.index = index;
    this.job = Objects.requireNonNull(job, "job");
    this.outcome = Objects.requireNonNull(outcome, "outcome");
  }

  /** The job's position in the input, from 0. */
  public long index() {
    return index;
  }

  public Job job() {
    return job;
  }

  public Outcome<T> outcome() {
    return outcome;
  }

  @Override
  public String toString() {
    return "JobResult[#" + index + " " + job.id() + ": " + outcome + "]";
  }
}
