package dev.throttle.cli;

import dev.throttle.client.AttemptListener;
import dev.throttle.core.Clock;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code --plot} draws: every attempt's send and end, on a clock, binned per {@link #BIN_NANOS} from the first
 * send. Thread-safe (the client's and the {@code HttpClient}'s threads report into it).
 */
final class Timeline implements AttemptListener {

  static final long BIN_NANOS = 100_000_000L;

  private static final int SENT = 0;
  private static final int OK = 1;
  private static final int TOO_MANY = 2;
  private static final int OTHER = 3; // another status, or no response

  private final Clock clock;
  private final List<long[]> events = new ArrayList<>(); // {nanos, kind}

  Timeline(Clock clock) {
    this.clock = clock;
  }

  @Override
  public void onSend(HttpRequest request) {
    add(SENT);
  }

  @Override
  public void onResponse(HttpRequest request, HttpResponse<?> response) {
    int s = response.statusCode();
    add(s >= 200 && s < 300 ? OK : s == 429 ? TOO_MANY : OTHER);
  }

  @Override
  public void onError(HttpRequest request, Throwable error) {
    add(OTHER);
  }

  private void add(int kind) {
    long now = clock.nanoTime();
    synchronized (events) {
      events.add(new long[] {now, kind});
    }
  }

  /** The series so far, one value per 100 ms from the first send (empty when nothing was sent). */
  Bins bins() {
    List<long[]> copy;
    synchronized (events) {
      copy = new ArrayList<>(events);
    }
    copy.sort((a, b) -> Long.compare(a[0], b[0]));
    long start = copy.stream().filter(e -> e[1] == SENT).mapToLong(e -> e[0]).findFirst().orElse(Long.MIN_VALUE);
    if (start == Long.MIN_VALUE) {
      return new Bins(new int[0], new int[0], new int[0], new int[0], new int[0]);
    }
    int n = (int) ((copy.get(copy.size() - 1)[0] - start) / BIN_NANOS) + 1;
    int[] sent = new int[n];
    int[] ok = new int[n];
    int[] tooMany = new int[n];
    int[] other = new int[n];
    int[] inFlight = new int[n];
    int open = 0;
    int bin = 0;
    for (long[] e : copy) {
      int b = (int) (Math.max(0, e[0] - start) / BIN_NANOS);
      for (; bin < b; bin++) {
        inFlight[bin] = open;
      }
      switch ((int) e[1]) {
        case SENT -> {
          sent[b]++;
          open++;
        }
        case OK -> {
          ok[b]++;
          open--;
        }
        case TOO_MANY -> {
          tooMany[b]++;
          open--;
        }
        default -> {
          other[b]++;
          open--;
        }
      }
    }
    for (; bin < n; bin++) {
      inFlight[bin] = open;
    }
    return new Bins(sent, ok, tooMany, other, inFlight);
  }

  /**
   * Per 100 ms: attempts sent, answered 2xx, answered 429, ended otherwise (another status or no response), and
   * attempts in flight at the end of the bin.
   */
  record Bins(int[] sent, int[] ok, int[] tooMany, int[] other, int[] inFlight) {
    int size() {
      return sent.length;
    }
  }
}
