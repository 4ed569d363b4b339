package dev.throttle.http;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A strict RFC 8259 JSON reader for tests: objects become maps, arrays lists, numbers BigDecimal. */
public final class JsonReader {

  private final String in;
  private int pos;

  private JsonReader(String in) {
    this.in = in;
  }

  /** The value in {@code text}, which must hold exactly one JSON value. */
  public static Object parse(String text) {
    JsonReader r = new JsonReader(text);
    r.ws();
    Object v = r.value();
    r.ws();
    if (r.pos != text.length()) {
      throw r.fail("text after the value");
    }
    return v;
  }

  /** The object in {@code text}. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException("not a JSON object: " + text);
    }
    return (Map<String, Object>) v;
  }

  private Object value() {
    if (pos >= in.length()) {
      throw fail("expected a value");
    }
    char c = in.charAt(pos);
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        return literal("true", Boolean.TRUE);
      case 'f':
        return literal("false", Boolean.FALSE);
      case 'n':
        return literal("null", null);
      default:
        return number();
    }
  }

  private Map<String, Object> object() {
    pos++;
    Map<String, Object> map = new LinkedHashMap<>();
    ws();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      ws();
      if (peek() != '"') {
        throw fail("expected a member name");
      }
      String name = string();
      if (map.containsKey(name)) {
        throw fail("duplicate member " + name);
      }
      ws();
      expect(':');
      ws();
      map.put(name, value());
      ws();
      if (peek() == ',') {
        pos++;
        continue;
      }
      expect('}');
      return map;
    }
  }

  private List<Object> array() {
    pos++;
    List<Object> list = new ArrayList<>();
    ws();
    if (peek() == ']') {
      pos++;
      return list;
    }
    while (true) {
      ws();
      list.add(value());
      ws();
      if (peek() == ',') {
        pos++;
        continue;
      }
      expect(']');
      return list;
    }
  }

  private String string() {
    pos++;
    StringBuilder sb = new StringBuilder();
    while (pos < in.length()) {
      char c = in.charAt(pos++);
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw fail("unescaped control character in a string");
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = in.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          sb.append((char) Integer.parseInt(in.substring(pos, pos + 4), 16));
          pos += 4;
        }
        default -> throw fail("invalid escape \\" + e);
      }
    }
    throw fail("unterminated string");
  }

  private Object literal(String word, Object value) {
    if (!in.startsWith(word, pos)) {
      throw fail("expected " + word);
    }
    pos += word.length();
    return value;
  }

  private BigDecimal number() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    while (pos < in.length() && "0123456789.eE+-".indexOf(in.charAt(pos)) >= 0) {
      pos++;
    }
    String text = in.substring(start, pos);
    if (!text.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
      throw fail("invalid number '" + text + "'");
    }
    return new BigDecimal(text);
  }

  private void ws() {
    while (pos < in.length() && " \t\r\n".indexOf(in.charAt(pos)) >= 0) {
      pos++;
    }
  }

  private char peek() {
    if (pos >= in.length()) {
      throw fail("unexpected end");
    }
    return in.charAt(pos);
  }

  private void expect(char c) {
    if (peek() != c) {
      throw fail("expected '" + c + "'");
    }
    pos++;
  }

  private IllegalArgumentException fail(String why) {
    return new IllegalArgumentException("invalid JSON (" + why + ") at " + pos + ": " + in);
  }
}
