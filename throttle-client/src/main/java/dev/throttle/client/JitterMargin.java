package dev.throttle.client;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Limit;
import java.time.Duration;

/**
 * The client's own limit: the configured one, counted in thousandths of a request, with each greedy bucket's burst
 * lowered by the requests its rate refills in the <em>jitter margin</em>.
 *
 * <h2>Why</h2>
 *
 * A client that sends exactly at a server's limit (same rate, same burst) is exact only on its own clock. The server
 * decides on arrival, and both buckets, once empty, keep the grid of their first request: the client's
 * {@code c0 + k/rate}, the server's {@code c0 + d0 + k/rate}, where {@code d0} is the first request's trip. A later
 * request whose trip is shorter than {@code d0} (the first ones open connections; later ones find them open)
 * arrives before its slot on the server's grid and gets a {@code 429} — measured here: 12 ms for the first burst
 * against 2 ms later, a 429 on the fifth request of the demo, and a one-second {@code Retry-After} that cost 8 % of
 * the run.
 *
 * <p>Lowering the client's burst by {@code margin * rate} requests (here in thousandths, so that a fraction of a
 * request can be taken off) keeps its bucket that much emptier than the server's at every moment: every request
 * after the first of a burst leaves {@code margin} later than the exact grid, so trips may differ by up to
 * {@code margin} without a 429. The price is {@code margin} once per burst (20 ms by default, against a 15 s run).
 * The bound the client keeps is then {@code burst - margin * rate + rate * t} in any window {@code t}: below the limit,
 * never above it. No token is computed here: the core's bucket does the counting, with a cost of 1000.
 *
 * <p>Not lowered: a burst of 1 (nothing to take from: a margin would need a slower rate), buckets with interval
 * refill (their chunks come at fixed boundaries), and limits too fast to count in thousandths (over 10^6/s), which
 * are used as they are.
 */
final class JitterMargin {

  static final long UNITS = 1000;

  private final Limit limit;
  private final long cost;

  private JitterMargin(Limit limit, long cost) {
    this.limit = limit;
    this.cost = cost;
  }

  static JitterMargin of(Limit configured, Duration margin) {
    long marginNanos = margin.toNanos();
    try {
      Limit.Builder b = Limit.builder();
      for (Bandwidth bw : configured.bandwidths()) {
        long amount = Math.multiplyExact(bw.amount(), UNITS);
        long capacity = Math.multiplyExact(bw.burst(), UNITS);
        b.rate(amount, bw.period());
        if (bw.isIntervalRefill()) {
          b.burst(capacity).refillEvery(bw.refillInterval());
        } else {
          // units refilled during the margin: amount * margin / period, at most all but one request of the burst
          double refilled = (double) amount * marginNanos / bw.periodNanos();
          long off = (long) Math.min(Math.ceil(refilled), capacity - UNITS);
          b.burst(capacity - off);
        }
      }
      return new JitterMargin(b.build(), UNITS);
    } catch (IllegalArgumentException | ArithmeticException tooFast) {
      return new JitterMargin(configured, 1);
    }
  }

  /** The limit the client's throttle enforces. */
  Limit limit() {
    return limit;
  }

  /** What one request costs in it: 1000, or 1 when the configured limit is used as it is. */
  long cost() {
    return cost;
  }
}
