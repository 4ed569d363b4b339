package dev.throttle.client;

import java.util.Locale;
import java.util.Optional;

/**
 * What a {@link ThrottledHttpClient} has learned of its server: the rate it keeps and where that came from, the
 * server's burst when its fields showed it, whether the server counts in fixed windows, the spacing margin, and the
 * {@code 429}s it met. Immutable; a snapshot.
 */
public final class Learned {

  private final double rate;
  private final String rateSource;
  private final Long serverBurst;
  private final boolean fixedWindow;
  private final boolean spacing;
  private final double margin;
  private final String fields;
  private final long refusedEarly;
  private final long refusedSpent;

  Learned(double rate, String rateSource, Long serverBurst, boolean fixedWindow, boolean spacing, double margin,
      String fields, long refusedEarly, long refusedSpent) {
    this.rate = rate;
    this.rateSource = rateSource;
    this.serverBurst = serverBurst;
    this.fixedWindow = fixedWindow;
    this.spacing = spacing;
    this.margin = margin;
    this.fields = fields;
    this.refusedEarly = refusedEarly;
    this.refusedSpent = refusedSpent;
  }

  /** The rate sends go at now, requests per second (before the spacing margin). */
  public double rate() {
    return rate;
  }

  /**
   * Where {@link #rate()} came from: {@code "configured"}, {@code "RateLimit-Policy q=50;w=1"} (the server's fields),
   * {@code "429s (adaptive)"}, or {@code "slow start (no 429 yet)"}.
   */
  public String rateSource() {
    return rateSource;
  }

  /** The server's burst, when its first response's remaining quota showed it (remaining + 1). */
  public Optional<Long> serverBurst() {
    return Optional.ofNullable(serverBurst);
  }

  /** Whether the server counts in fixed windows of its quota (a full quota at once, then nothing until the reset). */
  public boolean fixedWindow() {
    return fixedWindow;
  }

  /** Whether sends are spaced one by one (no burst), as a strict server needs. */
  public boolean spacing() {
    return spacing;
  }

  /** The spacing margin, a fraction of the interval (0 when not spacing). */
  public double margin() {
    return margin;
  }

  /** The dialect of the quota fields the server sends ({@code "RateLimit (draft-10)"}), if any. */
  public Optional<String> fields() {
    return Optional.ofNullable(fields);
  }

  /** {@code 429}s for a request sent at a rate kept (jitter, a burst the server did not take). */
  public long refusedEarly() {
    return refusedEarly;
  }

  /** {@code 429}s saying that the quota is spent until a reset later than the next paced send. */
  public long refusedSpent() {
    return refusedSpent;
  }

  /** One line: {@code rate 50.0/s (RateLimit-Policy q=50;w=1), fixed window, fields RateLimit (draft-10), ...}. */
  public String describe() {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "rate %.2f/s (%s)", rate, rateSource));
    if (serverBurst != null) {
      sb.append(", server burst ").append(serverBurst);
    }
    if (fixedWindow) {
      sb.append(", fixed window");
    }
    if (spacing) {
      sb.append(String.format(Locale.ROOT, ", spaced one by one with a margin of %.1f %%", 100 * margin));
    }
    sb.append(", quota fields ").append(fields == null ? "none" : fields);
    sb.append(", 429s: ").append(refusedEarly).append(" early, ").append(refusedSpent).append(" quota spent");
    return sb.toString();
  }

  @Override
  public String toString() {
    return "Learned[" + describe() + "]";
  }
}
