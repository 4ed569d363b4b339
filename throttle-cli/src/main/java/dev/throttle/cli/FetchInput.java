package dev.throttle.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code throttle fetch}'s input: one job a line, either a URL or a JSON object
 * {@code {"id":…, "method":…, "url":…, "headers":{…}, "body":…}}. Blank lines and lines starting with {@code #} are
 * skipped. The whole input is read and checked before anything is sent, so that a bad line is a usage error that
 * names the line, with nothing sent.
 */
final class FetchInput {

  private static final Set<String> FIELDS = Set.of("id", "method", "url", "headers", "body");

  /** One job as read: the id as written (a string or a number; the line number when absent), and the request. */
  record Line(int lineNumber, Object id, URI url, HttpRequest request) {}

  /** A line that cannot be a job. */
  static final class BadLine extends Exception {
    BadLine(int line, String why) {
      super("input line " + line + ": " + why);
    }
  }

  private FetchInput() {}

  static List<Line> read(BufferedReader in, Duration timeout) throws IOException, BadLine {
    List<Line> lines = new ArrayList<>();
    String text;
    int n = 0;
    while ((text = in.readLine()) != null) {
      n++;
      String t = text.strip();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      lines.add(t.startsWith("{") ? json(n, t, timeout) : url(n, t, timeout));
    }
    return lines;
  }

  private static Line url(int n, String text, Duration timeout) throws BadLine {
    URI uri = checkUrl(n, text);
    return new Line(n, n, uri, build(n, uri, "GET", Map.of(), null, timeout));
  }

  private static Line json(int n, String text, Duration timeout) throws BadLine {
    Map<String, Object> m;
    try {
      m = JSON.std.mapFrom(text);
    } catch (IOException e) {
      throw new BadLine(n, "not valid JSON (" + firstLine(e.getMessage()) + ")");
    }
    for (String key : m.keySet()) {
      if (!FIELDS.contains(key)) {
        throw new BadLine(n, "unknown field '" + key + "' (the fields are id, method, url, headers, body)");
      }
    }
    Object id = m.containsKey("id") ? m.get("id") : n;
    if (!(id instanceof String || id instanceof Number)) {
      throw new BadLine(n, "\"id\" must be a string or a number");
    }
    if (!(m.get("url") instanceof String url)) {
      throw new BadLine(n, "\"url\" is missing or not a string");
    }
    URI uri = checkUrl(n, url);
    Object method = m.getOrDefault("method", "GET");
    if (!(method instanceof String ms) || !ms.matches("[A-Za-z]+")) {
      throw new BadLine(n, "\"method\" must be a word such as GET or POST, got " + method);
    }
    Object headers = m.getOrDefault("headers", Map.of());
    if (!(headers instanceof Map<?, ?> hm)) {
      throw new BadLine(n, "\"headers\" must be an object of names to strings");
    }
    Map<String, String> h = new java.util.LinkedHashMap<>();
    for (Map.Entry<?, ?> e : hm.entrySet()) {
      if (!(e.getValue() instanceof String v)) {
        throw new BadLine(n, "header '" + e.getKey() + "' must have a string value");
      }
      h.put((String) e.getKey(), v);
    }
    Object body = m.get("body");
    if (body != null && !(body instanceof String)) {
      throw new BadLine(n, "\"body\" must be a string");
    }
    return new Line(n, id, uri, build(n, uri, ms.toUpperCase(Locale.ROOT), h, (String) body, timeout));
  }

  private static URI checkUrl(int n, String text) throws BadLine {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new BadLine(n, "'" + text + "' is not a URL (" + e.getReason() + ")");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new BadLine(n, "'" + text + "' is not an http or https URL with a host");
    }
    return uri;
  }

  private static HttpRequest build(int n, URI uri, String method, Map<String, String> headers, String body,
      Duration timeout) throws BadLine {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      headers.forEach(b::header);
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new BadLine(n, e.getMessage());
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
