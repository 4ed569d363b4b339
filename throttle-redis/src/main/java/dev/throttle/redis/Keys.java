package dev.throttle.redis;

import dev.throttle.core.Bandwidth;
import dev.throttle.core.Limit;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The Redis keys of one caller key: {@code <prefix>{<caller key>}:<bucket>}, one per bucket of the limit.
 *
 * <ul>
 *   <li>The caller key is the {@code {hash tag}}, so every key of one decision lies in one Redis Cluster slot (no
 *       CROSSSLOT error) while different callers spread over the cluster. A caller key that contains braces itself
 *       still yields one slot per decision: all its keys share the bytes up to the first {@code '}'}.
 *   <li>Caller keys are bytes, any bytes. One longer than {@value #MAX_RAW} bytes is replaced by {@code #} and the
 *       hex SHA-256 of its bytes (65 bytes), which no raw key can equal, so long keys cost a bounded size. An empty
 *       key, or one starting with {@code '}'} (either would make an empty hash tag, which Redis Cluster ignores) or
 *       with the escape {@code '='}, gets a {@code '='} in front: distinct caller keys stay distinct.
 *   <li>The bucket part is the bucket's text ({@code 10/s}, {@code 1000/h_burst_5}): stores with the same prefix and
 *       the same limit share their buckets (that is how several servers enforce one limit), and a changed limit
 *       starts new keys instead of misreading old ones.
 * </ul>
 */
final class Keys<K> {

  static final int MAX_RAW = 64;

  private final byte[] prefix;
  private final byte[][] suffixes;
  private final Function<? super K, byte[]> encoder;

  Keys(String prefix, Limit limit, Function<? super K, byte[]> encoder) {
    this.prefix = checkPrefix(prefix).getBytes(StandardCharsets.UTF_8);
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    List<Bandwidth> bandwidths = limit.bandwidths();
    this.suffixes = new byte[bandwidths.size()][];
    for (int j = 0; j < suffixes.length; j++) {
      suffixes[j] = ("}:" + bandwidths.get(j).toString().replace(' ', '_')).getBytes(StandardCharsets.UTF_8);
    }
  }

  static String checkPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
      throw new IllegalArgumentException("the key prefix '" + prefix
          + "' must not contain '{' or '}': the caller key is the Redis Cluster hash tag");
    }
    return prefix;
  }

  byte[][] of(K key) {
    byte[] raw = encoder.apply(Objects.requireNonNull(key, "key"));
    if (raw == null) {
      throw new IllegalArgumentException("the key encoder returned null for the key " + key);
    }
    byte[] segment = raw.length > MAX_RAW ? hashed(raw) : escaped(raw);
    byte[][] keys = new byte[suffixes.length][];
    for (int j = 0; j < keys.length; j++) {
      byte[] k = new byte[prefix.length + 1 + segment.length + suffixes[j].length];
      System.arraycopy(prefix, 0, k, 0, prefix.length);
      k[prefix.length] = '{';
      System.arraycopy(segment, 0, k, prefix.length + 1, segment.length);
      System.arraycopy(suffixes[j], 0, k, prefix.length + 1 + segment.length, suffixes[j].length);
      keys[j] = k;
    }
    return keys;
  }

  private static byte[] escaped(byte[] raw) {
    if (raw.length > 0 && raw[0] != '}' && raw[0] != '=') {
      return raw;
    }
    byte[] escaped = new byte[raw.length + 1];
    escaped[0] = '=';
    System.arraycopy(raw, 0, escaped, 1, raw.length);
    return escaped;
  }

  private static byte[] hashed(byte[] raw) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(raw);
      return ("#" + HexFormat.of().formatHex(digest)).getBytes(StandardCharsets.US_ASCII);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
