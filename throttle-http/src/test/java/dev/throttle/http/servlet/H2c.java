package dev.throttle.http.servlet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP/2 client reduced to what the disconnect test needs: it opens a cleartext HTTP/2 connection (prior
 * knowledge), sends one GET with its headers (HPACK literals, no compression), and can then really disconnect.
 */
final class H2c implements AutoCloseable {

  private final Socket socket;

  H2c(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(RawHttp.READ_TIMEOUT_MS);
  }

  /** Sends the connection preface, an empty SETTINGS frame, and a GET of {@code path} on stream 1. */
  void get(String path, String... nameValuePairs) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.write(frameHeader(0, 0x4, 0, 0)); // SETTINGS, no parameters
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(0x82); // :method GET (static table 2)
    block.write(0x86); // :scheme http (static table 6)
    literalIndexedName(block, 4, path); // :path
    literalIndexedName(block, 1, "localhost"); // :authority
    for (int i = 0; i < nameValuePairs.length; i += 2) {
      block.write(0x00); // literal without indexing, new name
      string(block, nameValuePairs[i]);
      string(block, nameValuePairs[i + 1]);
    }
    byte[] headers = block.toByteArray();
    out.write(frameHeader(headers.length, 0x1, 0x4 | 0x1, 1)); // HEADERS, END_HEADERS | END_STREAM, stream 1
    out.write(headers);
    out.flush();
  }

  private static byte[] frameHeader(int length, int type, int flags, int stream) {
    return new byte[] {(byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
        (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
  }

  private static void literalIndexedName(ByteArrayOutputStream b, int index, String value) {
    b.write(index); // 0000 + 4-bit index: literal without indexing, indexed name (index < 15)
    string(b, value);
  }

  private static void string(ByteArrayOutputStream b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length >= 127) {
      throw new IllegalArgumentException("this client only sends short strings");
    }
    b.write(bytes.length); // not Huffman-coded
    b.write(bytes, 0, bytes.length);
  }

  /** Closes the connection: the client is gone. */
  @Override
  public void close() throws IOException {
    socket.close();
  }
}
