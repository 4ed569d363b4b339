package dev.throttle.client;

/**
 * How far a batch has come, for progress displays. Immutable.
 */
public final class Progress {

  private final long submitted;
  private final long succeeded;
  private final long failed;
  private final long cancelled;
  private final boolean inputComplete;

  Progress(long submitted, long succeeded, long failed, long cancelled, boolean inputComplete) {
    this.submitted = submitted;
    this.succeeded = succeeded;
    this.failed = failed;
    this.cancelled = cancelled;
    this.inputComplete = inputComplete;
  }

  /** Jobs read from the input so far. */
  public long submitted() {
    return submitted;
  }

  /** Jobs with a result. */
  public long done() {
    return succeeded + failed + cancelled;
  }

  public long succeeded() {
    return succeeded;
  }

  public long failed() {
    return failed;
  }

  public long cancelled() {
    return cancelled;
  }

  /** Whether the whole input has been read, so that {@link #submitted()} is the total. */
  public boolean inputComplete() {
    return inputComplete;
  }

  @Override
  public String toString() {
    return done() + "/" + submitted + (inputComplete ? "" : "+") + " done (" + succeeded + " ok, " + failed + " failed, "
        + cancelled + " cancelled)";
  }
}
