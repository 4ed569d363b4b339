package dev.throttle.cli;

import dev.throttle.gateway.ConfigException;
import dev.throttle.gateway.Gateway;
import dev.throttle.gateway.GatewayConfig;
import dev.throttle.http.KeyResolver;
import dev.throttle.http.RateLimitHeaders;
import dev.throttle.http.Rule;
import dev.throttle.http.TrustedProxies;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code throttle gateway}: the rate-limiting reverse proxy, until SIGTERM or Ctrl-C. */
@Command(
    name = "gateway",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "A rate-limiting reverse proxy in front of one HTTP upstream: every request is decided by Throttle's server "
            + "policy (IETF RateLimit fields, 429 problem bodies, delay mode), in memory or on Redis shared by several "
            + "gateways.",
        "Simple case with flags: one rule for every request. Several routes and rules: --config FILE (YAML; see "
            + "examples/throttle.yaml).",
        "Operations: GET /health and GET /metrics (Prometheus) on the admin address (127.0.0.1:8901 by default).",
        "Reload: with --config, SIGHUP reads the file again and applies its routes and rules without dropping a "
            + "connection; rules whose name, id and limit are unchanged keep their buckets. A file with an error, or "
            + "that changes a setting read at start only (listen, upstream, store, timeouts), is refused and the "
            + "configuration in force stays. --watch also reloads when the file changes.",
        "Requests are HTTP/1.1 (or 1.0); what RFC 9112 refuses is answered 400 (501 for a transfer coding other "
            + "than chunked, 413/414/431 for oversized parts) and the connection closed: ambiguous framing, a "
            + "missing, repeated or invalid Host, bad field or chunk syntax. A connection is closed when its request "
            + "head is not complete within --header-timeout (60s), or its next one within --idle-timeout (75s).",
        "Exit code: 0 after a clean stop (SIGTERM or Ctrl-C: stop accepting, answer waiting requests 503, finish the "
            + "rest within --grace), 2 for a usage or configuration error (the flag, or the file and line, and the "
            + "value are named; ports must be 1-65535), 1 when it cannot start (an address in use, naming the flag "
            + "that changes it; with --check-upstream, an upstream that does not answer)."
    })
final class GatewayCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "A YAML configuration (routes, rules and every setting); the flags below then may not be given.")
  Path config;

  @Option(names = "--watch", description = "With --config: also reload when the file changes, as SIGHUP does (its "
      + "directory is watched; writes within 200 ms are one reload, and a file whose bytes did not change is not "
      + "reloaded).")
  boolean watch;

  @Option(names = "--upstream", paramLabel = "URL", description = "Where requests go: http://host:port.")
  String upstream;

  @Option(names = "--port", description = "The port clients connect to (default: 8080; 0: any free port).")
  Integer port;

  @Option(names = "--host", description = "The address to listen on (default: 0.0.0.0, every interface).")
  String host;

  @Option(names = "--limit", description = "The limit per key: 10/s, 100/s burst 20, 6000/min, 10/s and 1000/h.")
  String limit;

  @Option(names = "--key", description = "What the limit is per: ip (default), header:X-API-Key, path, all; "
      + "+ combines, | falls back (header:X-API-Key|ip).")
  String key;

  @Option(names = "--mode", description = "reject (default): 429 at once; delay: wait for a turn up to --max-wait.")
  String mode;

  @Option(names = "--max-wait", converter = DurationConverter.class,
      description = "With --mode delay: the longest wait (500ms, 2s, 1min).")
  Duration maxWait;

  @Option(names = "--path", description = "Only requests under this path prefix are limited (default: /, all).")
  String path;

  @Option(names = "--dry-run", description = "Decide and send the rate-limit fields, but never refuse nor delay.")
  boolean dryRun;

  @Option(names = "--store", description = "memory (default), or a Redis URI shared by every gateway: "
      + "redis://127.0.0.1:6379, rediss://..., redis-sentinel://host:port#master, redis-cluster://host:port,...")
  String store;

  @Option(names = "--on-redis-failure", description = "fail-closed (default), fail-open, local-share:<gateways>, "
      + "local:<limit>.")
  String onRedisFailure;

  @Option(names = "--redis-timeout", converter = DurationConverter.class,
      description = "How long a decision waits for Redis (default: 50ms).")
  Duration redisTimeout;

  @Option(names = "--redis-lease", paramLabel = "TOKENS", description = "Redis store: a hot key takes leases of "
      + "TOKENS (at most the rule's burst) spent here without a round trip; a key may then pass its limit by TOKENS x "
      + "gateways in a window (default: 0, exact).")
  Long redisLease;

  @Option(names = "--access-log", paramLabel = "FILE", description = "Append a line per answered request to FILE "
      + "(- for standard output): arrival (UTC, microseconds), client, request line, status, bytes, seconds "
      + "(default: none).")
  String accessLog;

  @Option(names = "--trusted-proxies", description = "Comma-separated addresses or blocks whose X-Forwarded-For is "
      + "believed for ip keys (default: none).")
  String trustedProxies;

  @Option(names = "--rate-limit-headers", paramLabel = "DIALECT", description = "The rate-limit fields sent: "
      + "draft-10 (default: RateLimit-Policy and RateLimit lists), draft-7 (RateLimit: limit=, remaining=, reset=), "
      + "draft-6 (RateLimit-Limit, -Remaining, -Reset), legacy (X-RateLimit-* only), none. X-RateLimit-* go beside "
      + "a draft's.")
  String rateLimitHeaders;

  @Option(names = "--forwarded-header", description = "The field trusted proxies name the client in: "
      + "X-Forwarded-For (default) or Forwarded (RFC 7239).")
  String forwardedHeader;

  @Option(names = "--admin-port", description = "The port of /health and /metrics (default: 8901; 0: any free "
      + "port; -1: none).")
  Integer adminPort;

  @Option(names = "--admin-host", description = "The address of /health and /metrics (default: 127.0.0.1).")
  String adminHost;

  @Option(names = "--grace", converter = DurationConverter.class,
      description = "On SIGTERM, how long requests in flight may take (default: 10s).")
  Duration grace;

  @Option(names = "--header-timeout", converter = DurationConverter.class,
      description = "How long a connection may take to send a complete request head, then it is closed "
          + "(default: 60s, as nginx's client_header_timeout).")
  Duration headerTimeout;

  @Option(names = "--idle-timeout", converter = DurationConverter.class,
      description = "How long a kept-alive connection may wait for its next request head after a response, then it "
          + "is closed (default: 75s, as nginx's keepalive_timeout).")
  Duration idleTimeout;

  @Option(names = "--max-body", description = "The largest request body passed on (default: 10MB).")
  String maxBody;

  @Option(names = "--event-loops", description = "Event-loop threads (default: one per processor).")
  Integer eventLoops;

  @Option(names = "--check-upstream",
      description = "Refuse to start (exit 1) when the upstream does not accept a connection; by default the gateway "
          + "starts with a warning and answers 502 until it does.")
  boolean checkUpstream;

  @Override
  public Integer call() throws Exception {
    configureLogging();
    PrintWriter err = spec.commandLine().getErr();
    if (watch && config == null) {
      return fail(err, "--watch: it watches the file of --config FILE, and none was given", 2);
    }
    GatewayConfig cfg;
    try {
      cfg = config != null ? fromFile() : fromFlags();
    } catch (ConfigException e) {
      return fail(err, e.getMessage(), 2);
    }
    String unreachable = probe(cfg);
    if (unreachable != null) {
      err.println("throttle gateway: the upstream " + cfg.upstream() + " does not accept connections ("
          + unreachable + ")" + (checkUpstream ? "" : "; starting anyway: requests get 502 until it does"));
      err.flush();
      if (checkUpstream) {
        return 1;
      }
    }
    Gateway gateway;
    try {
      gateway = Gateway.start(cfg);
    } catch (ConfigException e) {
      return fail(err, e.getMessage(), 2);
    } catch (IllegalStateException e) {
      return fail(err, e.getMessage(), 1);
    } catch (RuntimeException e) { // anything else that stops the start: its message, not a stack trace
      return fail(err, "cannot start: " + e, 1);
    }
    CountDownLatch stop = new CountDownLatch(1);
    boolean reloads = config != null && onSignals(new String[] {"HUP"}, () -> reload(gateway, err));
    if (watch) {
      try {
        watch(gateway, err);
      } catch (IOException e) {
        gateway.close();
        return fail(err, "--watch: cannot watch " + config + ": " + e, 1);
      }
    }
    if (!onSignals(new String[] {"TERM", "INT"}, stop::countDown)) {
      // Without signal handlers the JVM's own shutdown still stops the gateway gracefully (its exit code is then
      // the signal's, 143 or 130).
      Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "throttle-gateway-shutdown"));
    }
    err.println("throttle gateway: listening on " + cfg.host() + ":" + gateway.port() + ", upstream "
        + cfg.upstream() + (gateway.adminPort() < 0 ? "" : ", admin http://" + cfg.adminHost() + ":"
        + gateway.adminPort() + "/metrics") + "; Ctrl-C or SIGTERM stops it"
        + (reloads ? ", SIGHUP reloads " + config : "") + (watch ? ", and so does a change to it" : ""));
    err.flush();
    stop.await();
    gateway.close();
    return 0;
  }

  private GatewayConfig fromFile() {
    for (CommandLine.Model.OptionSpec o : spec.options()) {
      String name = o.longestName();
      if (!name.equals("--config") && !name.equals("--watch") && !name.equals("--help") && !name.equals("--version")
          && spec.commandLine().getParseResult().hasMatchedOption(o)) {
        throw new ConfigException(name + " cannot be given with --config: set it in " + config);
      }
    }
    return GatewayConfig.load(config);
  }

  GatewayConfig fromFlags() {
    if (upstream == null) {
      throw new ConfigException("--upstream is required (or --config FILE), for example --upstream "
          + "http://127.0.0.1:9000");
    }
    if (limit == null) {
      throw new ConfigException("--limit is required (or --config FILE), for example --limit \"10/s burst 5\"");
    }
    GatewayConfig.Builder b = GatewayConfig.builder();
    flag("--upstream", () -> b.upstream(upstream));
    flag("--port", () -> b.listen(host == null ? GatewayConfig.DEFAULT_HOST : host, port == null ? GatewayConfig.DEFAULT_PORT : port));
    if (adminPort != null && adminPort == -1) {
      b.noAdmin();
    } else {
      flag("--admin-port", () -> b.admin(adminHost == null ? GatewayConfig.DEFAULT_ADMIN_HOST : adminHost,
          adminPort == null ? GatewayConfig.DEFAULT_ADMIN_PORT : adminPort));
    }
    if (store != null && !store.equalsIgnoreCase("memory")) {
      flag("--store", () -> b.redisStore(store));
    }
    if (onRedisFailure != null) {
      flag("--on-redis-failure", () -> b.redisFailure(onRedisFailure));
    }
    if (redisTimeout != null) {
      flag("--redis-timeout", () -> b.redisTimeout(redisTimeout));
    }
    if (accessLog != null) {
      flag("--access-log", () -> b.accessLog(accessLog));
    }
    if (redisLease != null) {
      flag("--redis-lease", () -> b.redisLease(redisLease));
    }
    if (grace != null) {
      flag("--grace", () -> b.grace(grace));
    }
    if (headerTimeout != null) {
      flag("--header-timeout", () -> b.headerTimeout(headerTimeout));
    }
    if (idleTimeout != null) {
      flag("--idle-timeout", () -> b.idleTimeout(idleTimeout));
    }
    if (maxBody != null) {
      flag("--max-body", () -> b.maxBody(maxBody));
    }
    if (eventLoops != null) {
      flag("--event-loops", () -> b.eventLoops(eventLoops));
    }
    if (rateLimitHeaders != null) {
      flag("--rate-limit-headers", () -> b.rateLimitHeaders(RateLimitHeaders.parse(rateLimitHeaders)));
    }
    TrustedProxies proxies = trustedProxies == null ? TrustedProxies.none()
        : flag("--trusted-proxies", () -> TrustedProxies.parse(trustedProxies));
    if (forwardedHeader != null) {
      proxies = proxies.via(flag("--forwarded-header", () -> GatewayConfig.parseForwardedHeader(forwardedHeader)));
    }
    Rule.Builder rule = Rule.builder("default").trustedProxies(proxies);
    if (path != null) {
      flag("--path", () -> rule.path(path));
    }
    flag("--limit", () -> rule.limit(limit));
    if (key != null) {
      flag("--key", () -> rule.key(key));
    }
    String m = mode == null ? "reject" : mode.toLowerCase(Locale.ROOT);
    if (m.equals("delay")) {
      if (maxWait == null) {
        throw new ConfigException("--mode delay needs --max-wait, the longest a request may wait (for example 2s)");
      }
      flag("--max-wait", () -> rule.delay(maxWait));
    } else if (m.equals("reject")) {
      if (maxWait != null) {
        throw new ConfigException("--max-wait applies to --mode delay only");
      }
    } else {
      throw new ConfigException("--mode must be reject or delay, got '" + mode + "'");
    }
    rule.dryRun(dryRun);
    Rule built = flag("--limit", rule::build);
    b.route(new GatewayConfig.Route("default", List.of(built)));
    return b.build();
  }

  /** Reports a failure to start as {@code throttle gateway: <message>} and returns the exit code. */
  private static int fail(PrintWriter err, String message, int code) {
    err.println("throttle gateway: " + message);
    err.flush();
    return code;
  }

  /** Runs a setter; its error is reported as the flag's. */
  private static <T> T flag(String name, java.util.function.Supplier<T> setter) {
    try {
      return setter.get();
    } catch (IllegalArgumentException e) { // ConfigException too
      throw new ConfigException(name + ": " + e.getMessage());
    }
  }

  /** Null if the upstream accepts a TCP connection within the connect timeout, else why not. */
  private static String probe(GatewayConfig cfg) {
    int p = cfg.upstream().getPort() < 0 ? 80 : cfg.upstream().getPort();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(cfg.upstream().getHost(), p), (int) cfg.connectTimeout().toMillis());
      return null;
    } catch (java.io.IOException e) {
      return e.getMessage() == null ? e.toString() : e.getMessage();
    }
  }

  /**
   * Timestamped one-line logs on standard error, the gateway's at info and the libraries' at warn; set before the
   * first logger exists (a property given on the command line wins).
   */
  private static void configureLogging() {
    String[][] defaults = {
        {"org.slf4j.simpleLogger.showDateTime", "true"},
        {"org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"},
        {"org.slf4j.simpleLogger.showThreadName", "false"},
        {"org.slf4j.simpleLogger.showShortLogName", "true"},
        {"org.slf4j.simpleLogger.log.io.lettuce", "warn"},
        {"org.slf4j.simpleLogger.log.io.netty", "warn"},
        {"org.slf4j.simpleLogger.log.io.vertx", "warn"},
    };
    for (String[] d : defaults) {
      if (System.getProperty(d[0]) == null) {
        System.setProperty(d[0], d[1]);
      }
    }
  }

  /**
   * On SIGHUP: reads the configuration file again and applies it ({@link Gateway#reload}); a file that cannot be
   * read or applied is reported, and the gateway goes on with the configuration it had.
   */
  private void reload(Gateway gateway, PrintWriter err) {
    try {
      Gateway.Reload r = gateway.reload(GatewayConfig.load(config));
      err.println("throttle gateway: reloaded " + config + ": " + r);
    } catch (RuntimeException e) { // ConfigException above all: the file's line and value are named
      err.println("throttle gateway: reload of " + config + " refused, the configuration in force is unchanged: "
          + e.getMessage());
    }
    err.flush();
  }

  /**
   * {@code --watch}: a daemon thread reloads the file when its directory reports a change to it (or to an entry whose
   * name starts with {@code ..}: Kubernetes swaps a ConfigMap's files through such a link), once the writes have
   * paused for 200 ms, and only when the file's bytes differ from those last read (an editor's save can report
   * several events; a touch none that matters).
   */
  private void watch(Gateway gateway, PrintWriter err) throws IOException {
    Path file = config.toAbsolutePath();
    Path dir = file.getParent();
    WatchService service = dir.getFileSystem().newWatchService();
    dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
    byte[][] last = {readQuietly(file)};
    Thread t = new Thread(() -> {
      try {
        while (true) {
          if (!concerns(service.take(), file)) {
            continue;
          }
          for (WatchKey more = service.poll(200, TimeUnit.MILLISECONDS); more != null;
              more = service.poll(200, TimeUnit.MILLISECONDS)) {
            more.pollEvents();
            more.reset();
          }
          byte[] now = readQuietly(file);
          if (now != null && !Arrays.equals(now, last[0])) {
            last[0] = now;
            reload(gateway, err);
          }
        }
      } catch (InterruptedException | ClosedWatchServiceException e) {
        // the gateway is stopping
      }
    }, "throttle-gateway-watch");
    t.setDaemon(true);
    t.start();
  }

  /** Whether a batch of events is about {@code file} (or a {@code ..} link beside it); the key is reset. */
  private static boolean concerns(WatchKey key, Path file) {
    boolean about = false;
    for (WatchEvent<?> e : key.pollEvents()) {
      Object name = e.context();
      about |= e.kind() == StandardWatchEventKinds.OVERFLOW || file.getFileName().equals(name)
          || name != null && name.toString().startsWith("..");
    }
    key.reset();
    return about;
  }

  private static byte[] readQuietly(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      return null; // between a delete and a create: the next event reads it
    }
  }

  /**
   * Calls {@code action} on the signals {@code names} (SIGTERM and SIGINT: instead of exiting, so that the command
   * stops the gateway and returns 0). Uses the JDK's {@code sun.misc.Signal} (module jdk.unsupported) through
   * reflection, since it has no public replacement; false when it is not there.
   */
  private static boolean onSignals(String[] names, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Method handle = signal.getMethod("handle", signal, handler);
      InvocationHandler call = (proxy, method, args) -> {
        if (method.getName().equals("handle")) {
          action.run();
          return null;
        }
        return switch (method.getName()) {
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> "throttle-gateway-signal-handler";
        };
      };
      Object h = Proxy.newProxyInstance(GatewayCommand.class.getClassLoader(), new Class<?>[] {handler}, call);
      for (String name : names) {
        handle.invoke(null, signal.getConstructor(String.class).newInstance(name), h);
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }
}
