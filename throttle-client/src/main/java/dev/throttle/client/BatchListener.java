package dev.throttle.client;

/**
 * Receives a batch's results and progress. Both methods are called from one thread at a time (the batch's result
 * thread), so an implementation needs no locking of its own; an exception thrown from one is logged and the batch
 * goes on. Keep them quick: the batch's window holds results until they have been delivered.
 *
 * @param <T> the response body type
 */
public interface BatchListener<T> {

  /** One result per job, exactly once, in input order. */
  default void onResult(JobResult<T> result) {}

  /** After each job ends (in the order they end), with the counts so far. */
  default void onProgress(Progress progress) {}
}
