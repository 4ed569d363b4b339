package dev.throttle.gateway;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log ({@code access-log: FILE}, {@code --access-log FILE}, {@code -} for standard output; off by
 * default): one line per request the proxy answered, written when its answer has been sent, in arrival order per
 * connection:
 *
 * <pre>
 * 2026-12-04T19:30:00.123456Z 127.0.0.1 "GET /api/x HTTP/1.1" 429 61 0.000412
 * </pre>
 *
 * <p>The arrival (when the request's head was read, UTC, to the microsecond: the moment a strict limit decides on),
 * the client's address (the connection's peer, not {@code X-Forwarded-For}), the request line as sent, the status,
 * the bytes of the answer's body, and the seconds from arrival to the end of the answer. Like nginx's, lines go
 * through a buffer: written out when it fills, every second, and when the gateway stops. A request the HTTP decoder
 * could not parse (answered 400, 414 or 431) has the target {@code /bad-request}, as Netty names it; quotes and
 * control characters in a target would be escaped ({@code \"}, {@code \xHH}), so each line is one request. A write that fails is
 * logged once and the gateway goes on (requests are never refused for the log's sake). Thread-safe.
 */
final class AccessLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
  private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;

  private final Writer out;
  private final String where;
  private final boolean ownsOut; // a file of its own, closed with the log; not standard output
  private boolean failed; // guarded by this

  private AccessLog(Writer out, String where, boolean ownsOut) {
    this.out = out;
    this.where = where;
    this.ownsOut = ownsOut;
  }

  /**
   * Opens {@code target} for appending ({@code -}: standard output).
   *
   * @throws ConfigException if the file cannot be opened, naming it
   */
  static AccessLog open(String target) {
    if (target.equals("-")) {
      return new AccessLog(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16),
          "standard output", false);
    }
    try {
      return new AccessLog(Files.newBufferedWriter(Path.of(target), StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE), target, true);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("access-log: cannot open '" + target + "' for writing: " + e);
    }
  }

  /** One line: {@code arrival} on the wall clock, {@code nanos} from arrival to the end of the answer. */
  void write(Instant arrival, String client, String method, String uri, String version, int status, long bytes,
      long nanos) {
    StringBuilder line = new StringBuilder(96 + uri.length());
    TIME.formatTo(arrival.truncatedTo(ChronoUnit.MICROS), line);
    line.append(' ').append(client).append(" \"").append(method).append(' ');
    escape(uri, line);
    line.append(' ').append(version).append("\" ").append(status).append(' ').append(bytes).append(' ');
    long micros = nanos / 1000;
    line.append(micros / 1_000_000).append('.');
    String fraction = Long.toString(micros % 1_000_000);
    line.append("000000", fraction.length(), 6).append(fraction).append('\n');
    synchronized (this) {
      try {
        out.append(line);
      } catch (IOException e) {
        failedOnce(e);
      }
    }
  }

  private static void escape(String text, StringBuilder to) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        to.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        to.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
      } else {
        to.append(c);
      }
    }
  }

  /** Writes out what the buffer holds (every second, from a timer). */
  synchronized void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      failedOnce(e);
    }
  }

  private void failedOnce(IOException e) {
    if (!failed) {
      failed = true;
      log.error("gateway: the access log {} cannot be written ({}); requests go on, their lines may be lost", where,
          e.toString());
    }
  }

  @Override
  public synchronized void close() {
    flush();
    if (ownsOut) {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
