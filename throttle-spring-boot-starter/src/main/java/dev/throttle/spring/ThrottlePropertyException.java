package dev.throttle.spring;

/**
 * A {@code throttle.*} property whose value cannot be used: thrown while the application starts, so that it does not
 * run with a limit it did not mean. Names the property (as written in {@code application.yml}:
 * {@code throttle.routes[0].rules[0].limit}), quotes the value and says what is allowed.
 */
public final class ThrottlePropertyException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String property;
  private final String value;
  private final String reason;

  ThrottlePropertyException(String property, Object value, String reason, Throwable cause) {
    super("Invalid property '" + property + "'" + (value == null ? "" : " = '" + value + "'") + ": " + reason, cause);
    this.property = property;
    this.value = value == null ? null : String.valueOf(value);
    this.reason = reason;
  }

  /** The property's full name, such as {@code throttle.routes[0].rules[0].limit}. */
  public String property() {
    return property;
  }

  /** The value given, or null when the property is missing. */
  public String value() {
    return value;
  }

  /** What is wrong, and what is allowed. */
  public String reason() {
    return reason;
  }
}
