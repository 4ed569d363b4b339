package dev.throttle.client;

import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What a batch did: counts, attempts, latency percentiles, elapsed time and throughput. An immutable snapshot.
 *
 * <h2>Definitions</h2>
 *
 * <ul>
 *   <li><b>elapsed</b>: from the moment the first request was sent to the end of the last attempt (the last
 *       response), as in the seeds; time spent before the first send (start-up) and after the last response is not
 *       counted, and neither is the time of jobs never sent.
 *   <li><b>throughput</b>: jobs that <em>succeeded</em> divided by elapsed seconds. Failed and cancelled jobs do not
 *       count, so fast failures cannot raise it.
 *   <li><b>latency</b>: the round trip of each finished job's last attempt (request sent to response), recorded in
 *       microseconds in an HdrHistogram (3 significant digits); jobs never sent are not recorded.
 * </ul>
 */
public final class Stats {

  private final long succeeded;
  private final long failed;
  private final long cancelled;
  private final long attempts;
  private final Map<Integer, Long> byStatusCode;
  private final long elapsedNanos;
  private final Histogram latencyMicros;
  private final long meanLatencyNanos;

  Stats(long succeeded, long failed, long cancelled, long attempts, Map<Integer, Long> byStatusCode,
      long elapsedNanos, Histogram latencyMicros, long meanLatencyNanos) {
    this.meanLatencyNanos = meanLatencyNanos;
    this.succeeded = succeeded;
    this.failed = failed;
    this.cancelled = cancelled;
    this.attempts = attempts;
    this.byStatusCode = Collections.unmodifiableMap(new TreeMap<>(byStatusCode));
    this.elapsedNanos = elapsedNanos;
    this.latencyMicros = latencyMicros;
  }

  /** Jobs with a result: succeeded, failed or cancelled. */
  public long jobs() {
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

  /** Attempts sent, over all jobs (each retry counts). */
  public long attempts() {
    return attempts;
  }

  /** Jobs by the HTTP status of their last response; 0 for jobs that ended without one (errors, cancelled). */
  public Map<Integer, Long> byStatusCode() {
    return byStatusCode;
  }

  /** From the first request sent to the last response; zero if nothing was sent. */
  public Duration elapsed() {
    return Duration.ofNanos(elapsedNanos);
  }

  /** Succeeded jobs per second of {@link #elapsed()}; 0 when nothing was sent. */
  public double throughput() {
    return elapsedNanos == 0 ? 0 : succeeded * 1e9 / elapsedNanos;
  }

  /**
   * The latency at {@code percentile} (0 to 100) of the last attempts, to the histogram's precision (3 significant
   * digits: within 0.1 %); zero when none was recorded.
   */
  public Duration latencyPercentile(double percentile) {
    if (percentile < 0 || percentile > 100) {
      throw new IllegalArgumentException("a percentile is between 0 and 100, got " + percentile);
    }
    return latencyMicros.getTotalCount() == 0 ? Duration.ZERO
        : Duration.ofNanos(latencyMicros.getValueAtPercentile(percentile) * 1000);
  }

  public Duration maxLatency() {
    return latencyMicros.getTotalCount() == 0 ? Duration.ZERO : Duration.ofNanos(latencyMicros.getMaxValue() * 1000);
  }

  /** The mean latency of the last attempts, exact (not from the histogram). */
  public Duration meanLatency() {
    return Duration.ofNanos(meanLatencyNanos);
  }

  /**
   * The seeds' one-line summary: {@code [60] requests processed in [15.0] seconds with average time [1003.0] ms,
   * total throughput: [4.0] rps}, counting the jobs with a result, with the {@linkplain #throughput() throughput}
   * of succeeded jobs; when some did not succeed, how many follows.
   */
  public String summaryLine() {
    String line = "[" + jobs() + "] requests processed in [" + decimal(elapsedNanos / 1e9, 2)
        + "] seconds with average time [" + decimal(meanLatency().toNanos() / 1e6, 1) + "] ms, total throughput: ["
        + decimal(throughput(), 2) + "] rps";
    if (failed + cancelled > 0) {
      line += " (" + succeeded + " succeeded, " + failed + " failed, " + cancelled + " cancelled)";
    }
    return line;
  }

  /** Like Python's {@code round(x, digits)} printed: at least one decimal, trailing zeros dropped. */
  static String decimal(double x, int digits) {
    String s = String.format(Locale.ROOT, "%." + digits + "f", x);
    while (s.endsWith("0") && s.charAt(s.length() - 2) != '.') {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  @Override
  public String toString() {
    return summaryLine();
  }

  /** Collects outcomes as they arrive; thread-safe. */
  static final class Recorder {
    private long succeeded;
    private long failed;
    private long cancelled;
    private long attempts;
    private final Map<Integer, Long> byStatusCode = new TreeMap<>();
    private boolean any;
    private long firstSent;
    private long lastEnd;
    private final Histogram latency = new Histogram(3);
    private long latencySum;

    synchronized void record(Outcome<?> o) {
      switch (o.status()) {
        case SUCCEEDED:
          succeeded++;
          break;
        case FAILED:
          failed++;
          break;
        default:
          cancelled++;
      }
      attempts += o.attempts();
      byStatusCode.merge(o.statusCode(), 1L, Long::sum);
      if (o.wasSent()) {
        if (!any) {
          any = true;
          firstSent = o.firstSentNanos();
          lastEnd = o.endNanos();
        } else {
          firstSent = o.firstSentNanos() - firstSent < 0 ? o.firstSentNanos() : firstSent;
          lastEnd = o.endNanos() - lastEnd > 0 ? o.endNanos() : lastEnd;
        }
        if (o.status() != Outcome.Status.CANCELLED) {
          latency.recordValue(Math.max(0, o.latencyNanos() / 1000));
          latencySum += o.latencyNanos();
        }
      }
    }

    /** The progress of a batch that has read {@code submitted} jobs, with the counts recorded so far. */
    synchronized Progress progress(long submitted, boolean inputComplete) {
      return new Progress(submitted, succeeded, failed, cancelled, inputComplete);
    }

    synchronized Stats snapshot() {
      long n = latency.getTotalCount();
      return new Stats(succeeded, failed, cancelled, attempts, byStatusCode, any ? Math.max(0, lastEnd - firstSent) : 0,
          latency.copy(), n == 0 ? 0 : latencySum / n);
    }
  }
}
