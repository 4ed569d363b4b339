package dev.throttle.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A rate limit: one or more {@link Bandwidth token buckets}. A request passes only if every bucket has the tokens
 * for it, and then takes them from all of them (all or none).
 *
 * <p>One text grammar serves everywhere (flags, configuration files, documentation, error messages):
 *
 * <pre>
 *   100/s                     100 per second, burst 100 (the default burst is the amount)
 *   100/s burst 20            100 per second, at most 20 at once
 *   6000/min   1000/h   1/day other units: ms, s, min, h, day
 *   100/10s                   a period of several units
 *   4/s every 250ms           tokens arrive in chunks, here 1 every 250 ms (interval refill)
 *   10/s and 1000/h           several limits at once
 * </pre>
 *
 * {@link #parse(String)} reads it and {@link #toString()} writes it; the two round-trip. Invalid text fails with an
 * {@link IllegalArgumentException} that quotes the input and shows this grammar. Immutable and thread-safe.
 */
public final class Limit {

  /** The grammar, as shown in every parse error. */
  public static final String GRAMMAR = "<amount>/<period> [burst <tokens>] [every <interval>] [and <limit>...], "
      + "where <period> is a unit (ms, s, min, h, day) or a number and a unit (10s); "
      + "examples: 100/s, 100/s burst 20, 6000/min, 4/s every 250ms, 10/s and 1000/h";

  private final List<Bandwidth> bandwidths;

  private Limit(List<Bandwidth> bandwidths) {
    this.bandwidths = List.copyOf(bandwidths);
  }

  /** {@code amount} tokens every {@code period}, with a burst of {@code amount}. */
  public static Limit of(long amount, Duration period) {
    return builder().rate(amount, period).build();
  }

  /** A limit made of the given buckets, all of which must pass. */
  public static Limit of(Bandwidth first, Bandwidth... more) {
    List<Bandwidth> all = new ArrayList<>();
    all.add(Objects.requireNonNull(first, "first"));
    for (Bandwidth b : more) {
      all.add(Objects.requireNonNull(b, "bandwidth"));
    }
    return new Limit(all);
  }

  /** Starts a limit in code: {@code Limit.builder().rate(100, Duration.ofSeconds(1)).burst(20).build()}. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads the text form, for example {@code "100/s burst 20"} or {@code "10/s and 1000/h"}. Case and extra spaces
   * do not matter; digits may be grouped with underscores ({@code 1_000/s}).
   *
   * @throws IllegalArgumentException quoting {@code text} and showing {@link #GRAMMAR} when it is not a valid limit
   */
  public static Limit parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("Invalid limit: null. Expected " + GRAMMAR);
    }
    try {
      return new Parser(text).parseLimit();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid limit '" + text + "': " + e.getMessage() + ". Expected " + GRAMMAR, e);
    }
  }

  /** The buckets of this limit, in the order written; never empty. */
  public List<Bandwidth> bandwidths() {
    return bandwidths;
  }

  /** Whether this limit is one bucket (rather than several combined with {@code and}). */
  public boolean isSingle() {
    return bandwidths.size() == 1;
  }

  /** The burst: the smallest among the buckets, and the largest cost one request may have. */
  public long burst() {
    long max = Long.MAX_VALUE;
    for (Bandwidth b : bandwidths) {
      max = Math.min(max, b.burst());
    }
    return max;
  }

  /**
   * Checks that one request may cost {@code cost} tokens under this limit: at least 1 and at most the smallest
   * burst (a larger request could never pass, and would wait forever).
   *
   * @throws IllegalArgumentException naming the cost and the largest allowed
   */
  public void checkCost(long cost) {
    if (cost < 1) {
      throw new IllegalArgumentException("the cost must be at least 1 token, got " + cost);
    }
    if (cost > burst()) {
      throw new IllegalArgumentException("the cost " + cost + " exceeds the burst of the limit '" + this
          + "' (at most " + burst() + " tokens): such a request could never pass");
    }
  }

  /** This limit and {@code other}: a request must pass both. */
  public Limit and(Limit other) {
    List<Bandwidth> all = new ArrayList<>(bandwidths);
    all.addAll(other.bandwidths);
    return new Limit(all);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Limit l && bandwidths.equals(l.bandwidths);
  }

  @Override
  public int hashCode() {
    return bandwidths.hashCode();
  }

  /** The text form; {@code Limit.parse(limit.toString()).equals(limit)} always holds. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Bandwidth b : bandwidths) {
      if (sb.length() > 0) {
        sb.append(" and ");
      }
      sb.append(b);
    }
    return sb.toString();
  }

  /**
   * Builds a limit in code. {@link #rate(long, Duration)} starts a bucket; {@link #burst(long)} and
   * {@link #refillEvery(Duration)} adjust the bucket started last; another {@code rate} adds a second bucket.
   */
  public static final class Builder {
    private final List<Bandwidth> done = new ArrayList<>();
    private long amount;
    private Duration period;
    private Long burst;
    private Duration interval;

    private Builder() {}

    /** Starts a bucket of {@code amount} tokens every {@code period} (whole milliseconds). */
    public Builder rate(long amount, Duration period) {
      finishCurrent();
      this.amount = amount;
      this.period = Objects.requireNonNull(period, "period");
      this.burst = null;
      this.interval = null;
      return this;
    }

    /** Sets the burst (capacity) of the current bucket; without it the burst is the amount. */
    public Builder burst(long tokens) {
      requireCurrent("burst");
      this.burst = tokens;
      return this;
    }

    /** Refills the current bucket in chunks at every {@code interval} instead of continuously. */
    public Builder refillEvery(Duration interval) {
      requireCurrent("refillEvery");
      this.interval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /**
     * The limit.
     *
     * @throws IllegalArgumentException naming the invalid value, or when no {@code rate} was given
     */
    public Limit build() {
      finishCurrent();
      if (done.isEmpty()) {
        throw new IllegalArgumentException("a limit needs at least one rate(amount, period)");
      }
      return new Limit(done);
    }

    private void requireCurrent(String method) {
      if (period == null) {
        throw new IllegalStateException(method + "() needs a rate(amount, period) before it");
      }
    }

    private void finishCurrent() {
      if (period == null) {
        return;
      }
      try {
        done.add(Bandwidth.of(amount, period, burst == null ? amount : burst, interval));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("Invalid limit (rate " + amount + " per " + period
            + (burst == null ? "" : ", burst " + burst) + (interval == null ? "" : ", every " + interval) + "): "
            + e.getMessage(), e);
      }
      period = null;
    }
  }

  /** A hand-written reader of the grammar; its messages say what was expected where. */
  private static final class Parser {
    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    Limit parseLimit() {
      if (text.isBlank()) {
        throw new IllegalArgumentException("the text is empty");
      }
      List<Bandwidth> all = new ArrayList<>();
      do {
        all.add(parseBandwidth());
      } while (keyword("and"));
      skipSpaces();
      if (pos < text.length()) {
        throw new IllegalArgumentException("unexpected '" + text.substring(pos) + "' at position " + (pos + 1)
            + " (after a rate, only 'burst <tokens>', 'every <interval>' or 'and <limit>' may follow)");
      }
      return new Limit(all);
    }

    private Bandwidth parseBandwidth() {
      long amount = number("the amount (tokens per period)");
      skipSpaces();
      if (pos >= text.length() || text.charAt(pos) != '/') {
        throw new IllegalArgumentException("expected '/' after the amount " + amount + " at position " + (pos + 1));
      }
      pos++;
      long periodNanos = duration("the period", /* numberOptional= */ true);
      boolean hasBurst = false;
      long burst = amount;
      long interval = 0;
      while (true) {
        if (!hasBurst && keyword("burst")) {
          hasBurst = true;
          burst = number("the burst");
        } else if (interval == 0 && keyword("every")) {
          interval = duration("the refill interval", /* numberOptional= */ false);
        } else {
          break;
        }
      }
      return Bandwidth.of(amount, periodNanos, burst, interval);
    }

    /** A unit, optionally preceded by a count: {@code s}, {@code 10s}, {@code 250 ms}. */
    private long duration(String what, boolean numberOptional) {
      skipSpaces();
      long count = 1;
      if (pos < text.length() && (isAsciiDigit(text.charAt(pos)) || text.charAt(pos) == '-')) {
        count = number(what);
      } else if (!numberOptional) {
        throw new IllegalArgumentException("expected " + what + " as a number and a unit (such as 250ms) at position "
            + (pos + 1));
      }
      skipSpaces();
      int start = pos;
      while (pos < text.length() && Character.isLetter(text.charAt(pos))) {
        pos++;
      }
      String word = text.substring(start, pos);
      if (word.isEmpty()) {
        throw new IllegalArgumentException("expected a unit for " + what + " (ms, s, min, h or day) at position "
            + (start + 1));
      }
      long unit = Units.parse(word);
      if (unit < 0) {
        throw new IllegalArgumentException("unknown unit '" + word + "' for " + what + " (use ms, s, min, h or day)");
      }
      if (count < 1) {
        throw new IllegalArgumentException(what + " must be positive, got " + count + word);
      }
      try {
        return Math.multiplyExact(count, unit);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(what + " " + count + word + " is too long");
      }
    }

    /** Only 0 to 9: {@code Character.isDigit} (and {@code Long.parseLong}) also take other scripts' digits. */
    private static boolean isAsciiDigit(char c) {
      return c >= '0' && c <= '9';
    }

    private long number(String what) {
      skipSpaces();
      int start = pos;
      if (pos < text.length() && (text.charAt(pos) == '-' || text.charAt(pos) == '+')) {
        pos++;
      }
      while (pos < text.length() && (isAsciiDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
        pos++;
      }
      String digits = text.substring(start, pos).replace("_", "");
      if (digits.isEmpty() || digits.equals("-") || digits.equals("+")) {
        int end = pos;
        while (end < text.length() && !Character.isWhitespace(text.charAt(end)) && text.charAt(end) != '/') {
          end++;
        }
        String found = end > pos ? "'" + text.substring(pos, end) + "'" : "the end of the text";
        throw new IllegalArgumentException("expected " + what + " as a whole number at position " + (start + 1)
            + ", found " + found);
      }
      if (pos < text.length() && text.charAt(pos) == '.') {
        throw new IllegalArgumentException(what + " must be a whole number, found '" + digits + ".'");
      }
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + " " + digits + " is too large (at most " + Long.MAX_VALUE + ")");
      }
    }

    private boolean keyword(String word) {
      skipSpaces();
      int end = pos + word.length();
      if (end <= text.length() && text.substring(pos, end).toLowerCase(Locale.ROOT).equals(word)
          && (end == text.length() || !Character.isLetterOrDigit(text.charAt(end)))) {
        pos = end;
        return true;
      }
      return false;
    }

    private void skipSpaces() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }
  }
}
