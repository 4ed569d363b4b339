package dev.throttle.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} for a test, on a free loopback port, without persistence, in its own temporary
 * directory; stopped (and its directory removed) by {@link #close()}, or at the latest when the JVM exits. Missing
 * {@code redis-server} fails the test with a message (run {@code scripts/ensure-redis}), it never skips. Public in
 * the module's test jar, for the tests of the modules above (the gateway).
 */
public final class RedisServer implements AutoCloseable {

  private final List<String> extraArgs;
  private final Path dir;
  private final int port;
  private Process process;
  private final Thread reaper;

  private RedisServer(int port, List<String> extraArgs) throws IOException {
    this.port = port;
    this.extraArgs = extraArgs;
    this.dir = Files.createTempDirectory("throttle-redis-test-");
    this.reaper = new Thread(this::stopQuietly, "redis-server-reaper-" + port);
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** Starts a server on a free port; {@code extraArgs} are more {@code redis-server} options. */
  public static RedisServer start(String... extraArgs) {
    IOException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      int port = freePort(extraArgs.length > 0 && List.of(extraArgs).contains("--cluster-enabled"));
      try {
        RedisServer server = new RedisServer(port, List.of(extraArgs));
        if (server.launch()) {
          return server;
        }
        server.close(); // the port was taken between the probe and the start: try another
      } catch (IOException e) {
        last = e;
      }
    }
    throw new IllegalStateException("could not start redis-server on a free port", last);
  }

  /** Starts a server on {@code port} (which must be free). */
  static RedisServer startOn(int port) {
    try {
      RedisServer server = new RedisServer(port, List.of());
      if (!server.launch()) {
        String log = server.log();
        server.close();
        throw new IllegalStateException("redis-server did not start on port " + port + ": " + log);
      }
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A port that is free now. */
  static int freePort() {
    return freePort(false);
  }

  /** A Sentinel process ({@code redis-server --sentinel}) watching {@code master} as {@code name}. */
  static RedisServer sentinel(RedisServer master, String name) {
    IOException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      int port = freePort(false);
      try {
        RedisServer server = new RedisServer(port, List.of("--sentinel"));
        Files.writeString(server.dir.resolve("sentinel.conf"), "port " + port + "\nbind 127.0.0.1\n"
            + "sentinel monitor " + name + " 127.0.0.1 " + master.port() + " 1\n");
        if (server.launch()) {
          return server;
        }
        server.close();
      } catch (IOException e) {
        last = e;
      }
    }
    throw new IllegalStateException("could not start a Redis Sentinel on a free port", last);
  }

  private boolean launch() throws IOException {
    List<String> command = new ArrayList<>();
    command.add(binary());
    boolean sentinel = extraArgs.contains("--sentinel");
    if (sentinel) {
      command.add(dir.resolve("sentinel.conf").toString());
      command.add("--sentinel");
    } else {
      command.addAll(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
          "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"));
      command.addAll(extraArgs);
    }
    process = new ProcessBuilder(command)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("redis.log").toFile())
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        return false;
      }
      if (pings()) {
        return true;
      }
      try {
        Thread.sleep(10); // polling a starting process: there is nothing to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting redis-server", e);
      }
    }
    throw new IllegalStateException("redis-server did not answer PING within 10 s; its log: " + log());
  }

  private boolean pings() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(500);
      s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] buf = new byte[64];
      int n = s.getInputStream().read(buf);
      return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/local/bin").split(":")) {
      Path candidate = Path.of(dir, "redis-server");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new IllegalStateException("redis-server is not installed; the Redis tests need it. Run scripts/ensure-redis"
        + " (it installs Debian's redis-server package) or install Redis 5 or newer");
  }

  private static int freePort(boolean withClusterBus) {
    for (int i = 0; i < 50; i++) {
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        int port = s.getLocalPort();
        if (!withClusterBus) {
          return port;
        }
        if (port + 10000 <= 65535) {
          try (ServerSocket bus = new ServerSocket(port + 10000, 1, java.net.InetAddress.getLoopbackAddress())) {
            return port;
          } catch (IOException taken) {
            // the cluster bus port (port + 10000) is taken: draw again
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException("no free port with a free cluster bus port");
  }

  public int port() {
    return port;
  }

  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Runs {@code redis-cli -p <port> args...} and returns what it printed. */
  public String cli(String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
    command.addAll(List.of(args));
    return run(command);
  }

  /** {@code evalsha} and {@code eval} calls so far, as Redis counts them ({@code INFO commandstats}). */
  public long scriptCalls() {
    long n = 0;
    Matcher m = Pattern.compile("cmdstat_(evalsha|eval):calls=(\\d+)").matcher(cli("info", "commandstats"));
    while (m.find()) {
      n += Long.parseLong(m.group(2));
    }
    return n;
  }

  static String run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + command);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed (" + p.exitValue() + "): " + out);
      }
      return out.strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Kills the server at once (SIGKILL): no clean shutdown, connections drop. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts the server again on the same port (empty: nothing was persisted). */
  public void restart() {
    try {
      if (!launch()) {
        throw new IllegalStateException("redis-server did not restart on port " + port + ": " + log());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("redis.log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private void stopQuietly() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroy();
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or will run: nothing to remove
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temporary directory is harmless
    }
  }
}
