package dev.throttle.gateway;

/**
 * An invalid gateway configuration: the message names the file and line (for a YAML file) or the setting (for flags
 * and code), quotes the offending value and says what is allowed. The gateway does not start with it.
 */
public final class ConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;

  /** An error in {@code file} (null when not from a file) at {@code line} (1-based; 0 when unknown). */
  public ConfigException(String file, int line, String message) {
    super(where(file, line) + message);
    this.file = file;
    this.line = line;
  }

  /** An error in a setting given in code or as a flag. */
  public ConfigException(String message) {
    this(null, 0, message);
  }

  private static String where(String file, int line) {
    if (file == null) {
      return "";
    }
    return line > 0 ? file + ":" + line + ": " : file + ": ";
  }

  /** The file the error is in, or null. */
  public String file() {
    return file;
  }

  /** The line (1-based) the error is on, or 0 when unknown. */
  public int line() {
    return line;
  }
}
