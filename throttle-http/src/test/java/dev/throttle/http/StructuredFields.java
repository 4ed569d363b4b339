package dev.throttle.http;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict parser of RFC 9651 structured field Lists, written from the RFC's parsing algorithms (section 4.2), for
 * checking what the throttle sends. Anything the RFC says to fail on fails here with {@link IllegalArgumentException}.
 */
public final class StructuredFields {

  /** A Token bare item. */
  public record Token(String value) {}

  /** A Display String bare item (RFC 9651). */
  public record DisplayString(String value) {}

  /** A Date bare item (RFC 9651), seconds since the epoch. */
  public record Date(long seconds) {}

  /** An Item or an Inner List (value is then a List of Items) with its parameters, in order. */
  public record Member(Object value, Map<String, Object> params) {
    public Object param(String key) {
      return params.get(key);
    }

    public long integer(String key) {
      Object v = params.get(key);
      if (!(v instanceof Long)) {
        throw new AssertionError("parameter " + key + " is not an Integer: " + v);
      }
      return (Long) v;
    }
  }

  private final String in;
  private int pos;

  private StructuredFields(String in) {
    this.in = in;
  }

  /** Parses a List field value (several field lines joined with ", " as RFC 9110 combines them). */
  public static List<Member> parseList(String fieldValue) {
    StructuredFields p = new StructuredFields(fieldValue);
    p.discardLeadingSp();
    List<Member> members = new ArrayList<>();
    while (!p.atEnd()) {
      members.add(p.parseItemOrInnerList());
      p.discardOws();
      if (p.atEnd()) {
        break;
      }
      p.expect(',');
      p.discardOws();
      if (p.atEnd()) {
        throw p.fail("trailing comma");
      }
    }
    return members;
  }

  /** Parses an Item field value. */
  public static Member parseItem(String fieldValue) {
    StructuredFields p = new StructuredFields(fieldValue);
    p.discardLeadingSp();
    Member m = p.parseItem();
    p.discardLeadingSp();
    if (!p.atEnd()) {
      throw p.fail("characters after the item");
    }
    return m;
  }

  private Member parseItemOrInnerList() {
    if (peek() == '(') {
      pos++;
      List<Member> items = new ArrayList<>();
      while (!atEnd()) {
        while (!atEnd() && peek() == ' ') {
          pos++;
        }
        if (!atEnd() && peek() == ')') {
          pos++;
          return new Member(items, parseParameters());
        }
        items.add(parseItem());
        if (!atEnd() && peek() != ' ' && peek() != ')') {
          throw fail("inner list items must be separated by spaces");
        }
      }
      throw fail("unterminated inner list");
    }
    return parseItem();
  }

  private Member parseItem() {
    Object bare = parseBareItem();
    return new Member(bare, parseParameters());
  }

  private Map<String, Object> parseParameters() {
    Map<String, Object> params = new LinkedHashMap<>();
    while (!atEnd() && peek() == ';') {
      pos++;
      while (!atEnd() && peek() == ' ') {
        pos++;
      }
      String key = parseKey();
      Object value = Boolean.TRUE;
      if (!atEnd() && peek() == '=') {
        pos++;
        value = parseBareItem();
      }
      params.remove(key); // a later parameter of the same name replaces the earlier, at the later position
      params.put(key, value);
    }
    return params;
  }

  private String parseKey() {
    if (atEnd() || !(isLcalpha(peek()) || peek() == '*')) {
      throw fail("a key must start with a lower-case letter or '*'");
    }
    int start = pos;
    while (!atEnd() && (isLcalpha(peek()) || isDigit(peek()) || "_-.*".indexOf(peek()) >= 0)) {
      pos++;
    }
    return in.substring(start, pos);
  }

  private Object parseBareItem() {
    if (atEnd()) {
      throw fail("expected an item");
    }
    char c = peek();
    if (c == '-' || isDigit(c)) {
      return parseNumber();
    }
    if (c == '"') {
      return parseString();
    }
    if (c == '*' || isAlpha(c)) {
      return parseToken();
    }
    if (c == ':') {
      return parseByteSequence();
    }
    if (c == '?') {
      return parseBoolean();
    }
    if (c == '@') {
      pos++;
      Object n = parseNumber();
      if (!(n instanceof Long)) {
        throw fail("a date must be an integer");
      }
      return new Date((Long) n);
    }
    if (c == '%') {
      return parseDisplayString();
    }
    throw fail("unrecognised item");
  }

  private Object parseNumber() {
    boolean negative = false;
    if (peek() == '-') {
      negative = true;
      pos++;
    }
    if (atEnd() || !isDigit(peek())) {
      throw fail("expected a digit");
    }
    int start = pos;
    boolean decimal = false;
    while (!atEnd()) {
      char c = peek();
      if (isDigit(c)) {
        pos++;
      } else if (c == '.' && !decimal) {
        if (pos - start > 12) {
          throw fail("too many integer digits in a decimal");
        }
        decimal = true;
        pos++;
      } else {
        break;
      }
      if (!decimal && pos - start > 15) {
        throw fail("an integer has at most 15 digits");
      }
      if (decimal && pos - start > 16) {
        throw fail("a decimal has at most 16 characters");
      }
    }
    String text = in.substring(start, pos);
    if (!decimal) {
      long v = Long.parseLong(text);
      return negative ? -v : v;
    }
    if (text.endsWith(".")) {
      throw fail("a decimal cannot end with '.'");
    }
    if (text.length() - text.indexOf('.') - 1 > 3) {
      throw fail("a decimal has at most 3 fraction digits");
    }
    BigDecimal v = new BigDecimal(text);
    return negative ? v.negate() : v;
  }

  private String parseString() {
    pos++;
    StringBuilder sb = new StringBuilder();
    while (!atEnd()) {
      char c = in.charAt(pos++);
      if (c == '\\') {
        if (atEnd()) {
          throw fail("backslash at the end");
        }
        char next = in.charAt(pos++);
        if (next != '"' && next != '\\') {
          throw fail("only \\\" and \\\\ may be escaped");
        }
        sb.append(next);
      } else if (c == '"') {
        return sb.toString();
      } else if (c < 0x20 || c > 0x7e) {
        throw fail("a string holds printable ASCII only");
      } else {
        sb.append(c);
      }
    }
    throw fail("unterminated string");
  }

  private Token parseToken() {
    int start = pos;
    while (!atEnd() && (isTchar(peek()) || peek() == ':' || peek() == '/')) {
      pos++;
    }
    return new Token(in.substring(start, pos));
  }

  private byte[] parseByteSequence() {
    pos++;
    int end = in.indexOf(':', pos);
    if (end < 0) {
      throw fail("unterminated byte sequence");
    }
    String b64 = in.substring(pos, end);
    if (!b64.matches("[A-Za-z0-9+/=]*")) {
      throw fail("invalid base64 in byte sequence");
    }
    pos = end + 1;
    return Base64.getDecoder().decode(b64);
  }

  private Boolean parseBoolean() {
    pos++;
    if (atEnd()) {
      throw fail("expected 0 or 1");
    }
    char c = in.charAt(pos++);
    if (c == '1') {
      return true;
    }
    if (c == '0') {
      return false;
    }
    throw fail("a boolean is ?0 or ?1");
  }

  private DisplayString parseDisplayString() {
    pos++;
    expect('"');
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    while (!atEnd()) {
      char c = in.charAt(pos++);
      if (c < 0x20 || c > 0x7e) {
        throw fail("display strings hold printable ASCII only");
      }
      if (c == '%') {
        if (pos + 2 > in.length() || !in.substring(pos, pos + 2).matches("[0-9a-f]{2}")) {
          throw fail("a display string escape is % and two lower-case hex digits");
        }
        bytes.write(Integer.parseInt(in.substring(pos, pos + 2), 16));
        pos += 2;
      } else if (c == '"') {
        return new DisplayString(new String(bytes.toByteArray(), java.nio.charset.StandardCharsets.UTF_8));
      } else {
        bytes.write(c);
      }
    }
    throw fail("unterminated display string");
  }

  private void discardLeadingSp() {
    while (!atEnd() && peek() == ' ') {
      pos++;
    }
  }

  private void discardOws() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t')) {
      pos++;
    }
  }

  private void expect(char c) {
    if (atEnd() || peek() != c) {
      throw fail("expected '" + c + "'");
    }
    pos++;
  }

  private boolean atEnd() {
    return pos >= in.length();
  }

  private char peek() {
    return in.charAt(pos);
  }

  private IllegalArgumentException fail(String why) {
    return new IllegalArgumentException("not a structured field (" + why + ") at " + pos + " in: " + in);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isLcalpha(char c) {
    return c >= 'a' && c <= 'z';
  }

  private static boolean isAlpha(char c) {
    return isLcalpha(c) || (c >= 'A' && c <= 'Z');
  }

  private static boolean isTchar(char c) {
    return isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
