package dev.throttle.http.servlet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small HTTP/1.1 client on a plain socket, so that tests control every byte sent (any header, any size), see every
 * header line received exactly as sent, and can really disconnect. Every read has a timeout: a test never hangs.
 */
final class RawHttp implements AutoCloseable {

  /** How long a read may block before the test fails. */
  static final int READ_TIMEOUT_MS = 15_000;

  /** A response: status, header lines in order (names as sent), body, and when its head arrived. */
  record Response(int status, List<String[]> headerLines, String body, long arrivedNanos) {
    /** Every value of a header, each line as sent. */
    List<String> headers(String name) {
      List<String> out = new ArrayList<>();
      for (String[] h : headerLines) {
        if (h[0].equalsIgnoreCase(name)) {
          out.add(h[1]);
        }
      }
      return out;
    }

    /** The one value of a header (failing if it is repeated), or null. */
    String header(String name) {
      List<String> values = headers(name);
      if (values.size() > 1) {
        throw new AssertionError("header " + name + " sent " + values.size() + " times: " + values);
      }
      return values.isEmpty() ? null : values.get(0);
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  RawHttp(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(READ_TIMEOUT_MS);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = socket.getInputStream();
  }

  /** One GET on a new connection, closed after. */
  static Response get(int port, String path, String... headerLines) throws IOException {
    try (RawHttp c = new RawHttp(port)) {
      c.send("GET", path, headerLines);
      return c.read();
    }
  }

  /** Sends a request with no body; {@code headerLines} are {@code "Name: value"}. */
  void send(String method, String path, String... headerLines) throws IOException {
    StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
    for (String h : headerLines) {
      sb.append(h).append("\r\n");
    }
    sb.append("\r\n");
    out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /** Reads one response (body by Content-Length, chunked, or up to the close). */
  Response read() throws IOException {
    String statusLine = line();
    long arrived = System.nanoTime();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP/1.1 status line: " + statusLine);
    }
    int status = Integer.parseInt(parts[1]);
    List<String[]> headers = new ArrayList<>();
    String line;
    while ((line = line()) != null && !line.isEmpty()) {
      int colon = line.indexOf(':');
      headers.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
    }
    Response head = new Response(status, headers, "", arrived);
    String length = head.header("Content-Length");
    String encoding = head.header("Transfer-Encoding");
    byte[] body;
    if (length != null) {
      body = in.readNBytes(Integer.parseInt(length));
    } else if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      while (true) {
        int size = Integer.parseInt(line().split(";")[0].strip(), 16);
        if (size == 0) {
          while (!line().isEmpty()) {
            // trailers
          }
          break;
        }
        b.write(in.readNBytes(size));
        line();
      }
      body = b.toByteArray();
    } else {
      body = in.readAllBytes();
    }
    return new Response(status, headers, new String(body, StandardCharsets.UTF_8), arrived);
  }

  /** Whether the server closed the connection (end of stream within the read timeout). */
  boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
