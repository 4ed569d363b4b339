package dev.throttle.redis;

import dev.throttle.core.Limit;
import dev.throttle.core.Scheduler;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection to Redis on which distributed limiters are made: a single server, a Sentinel-managed master, or a
 * Cluster. One connection serves any number of limiters; their commands are pipelined on it (Lettuce's async API
 * writes each command without waiting for the replies before it).
 *
 * <pre>{@code
 * try (RedisLimits redis = RedisLimits.connect("redis://localhost:6379")) {
 *   RedisRateLimiter<String> perUser = redis.limiter(Limit.parse("10/s burst 5")).build();
 *   perUser.decide(userId, 1).thenAccept(decision -> ...);
 * }
 * }</pre>
 *
 * <p>An application that already has a Lettuce client passes it ({@link #connect(RedisClient, String)},
 * {@link #connect(RedisClusterClient)}) or its {@link ClientResources} ({@link #connect(String, ClientResources)}).
 *
 * <h2>URIs</h2>
 *
 * <ul>
 *   <li>{@code redis://[[user]:password@]host[:port][/database]}, {@code rediss://...} (TLS): one server;
 *   <li>{@code redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/database]#masterName}: the master
 *       that the sentinels name, followed across failovers;
 *   <li>{@code redis-cluster://[[user]:password@]host:port[,host:port...]} (or {@code rediss-cluster://}): the seed
 *       nodes of a Redis Cluster; the topology is discovered and refreshed as it changes.
 * </ul>
 *
 * <h2>When Redis is away</h2>
 *
 * {@link #connect(String)} never fails because Redis is down: it waits for the first attempt to connect and to warm
 * the connection (at most about two seconds), then goes on connecting in the background, retrying every 10 ms to 1 s, and reconnects by
 * itself after the connection is lost. Until connected, commands fail at once (they are not queued), and each
 * limiter answers by its {@link FailurePolicy}.
 *
 * <p>Thread-safe. {@link #close()} closes the connection and the client's threads; limiters made on it then answer
 * by their failure policy.
 */
public final class RedisLimits implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RedisLimits.class);

  private static final long FIRST_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  private static final long LAST_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final String description;
  private final ClientResources resources; // null when the client's are the caller's
  private final AbstractRedisClient client;
  private final boolean ownsClient;
  private final RedisURI standalone; // null for a cluster
  private volatile StatefulConnection<byte[], byte[]> connection;
  private volatile RedisScriptingAsyncCommands<byte[], byte[]> commands;
  private volatile boolean closed;
  private final DegradedLog connectLog = new DegradedLog(log);

  /**
   * @param resources shut down by {@link #close()}, or null when they are the caller's
   * @param ownsClient whether {@link #close()} shuts {@code client} down
   */
  private RedisLimits(String description, ClientResources resources, AbstractRedisClient client, boolean ownsClient,
      RedisURI standalone) {
    this.description = description;
    this.resources = resources;
    this.client = client;
    this.ownsClient = ownsClient;
    this.standalone = standalone;
    try {
      connect(FIRST_RETRY_NANOS).get(2, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // not connected yet: the attempts go on in the background, and the limiters degrade meanwhile
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The client resources of {@link #connect(String)}: reconnect quickly (10 ms, doubling up to 1 s), since a rate
   * limiter is on every request's path; and flushes consolidated while a batch of replies is read, so that the next
   * decisions that the replies' callbacks send leave in one write instead of one system call each (pipelining under
   * concurrency).
   */
  private static ClientResources defaultResources() {
    return ClientResources.builder()
        .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .nettyCustomizer(new NettyCustomizer() {
          @Override
          public void afterChannelInitialized(Channel channel) {
            channel.pipeline().addFirst(new FlushConsolidationHandler(256, true));
          }
        })
        .build();
  }

  /**
   * Connects to Redis, waiting for the first attempt only; see the class comment for the URIs.
   *
   * @throws IllegalArgumentException when {@code uri} is not a Redis URI (never because Redis is unreachable)
   */
  public static RedisLimits connect(String uri) {
    Objects.requireNonNull(uri, "uri");
    ClientResources resources = defaultResources();
    try {
      return open(uri, resources, true);
    } catch (RuntimeException e) {
      resources.shutdown();
      throw e;
    }
  }

  /**
   * As {@link #connect(String)}, on Lettuce client resources of the application's (event loops, timers, metrics
   * shared with its other Redis clients). {@link #close()} leaves them running. The reconnect delay and the
   * flush consolidation of {@link #connect(String)} are then the resources' to choose.
   *
   * @throws IllegalArgumentException when {@code uri} is not a Redis URI
   */
  public static RedisLimits connect(String uri, ClientResources resources) {
    Objects.requireNonNull(uri, "uri");
    return open(uri, Objects.requireNonNull(resources, "resources"), false);
  }

  /**
   * On an existing Lettuce {@link RedisClient} of the application's, which opens one more connection (to
   * {@code uri}: a {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI) for the limiters.
   * {@link #close()} closes that connection and leaves the client running. The client's options are left as they are:
   * set {@code disconnectedBehavior(REJECT_COMMANDS)} on it, as {@link #connect(String)} does, so that decisions fail
   * at once (and the failure policy answers) while Redis is away instead of being queued and run late.
   *
   * @throws IllegalArgumentException when {@code uri} is not such a URI
   */
  public static RedisLimits connect(RedisClient client, String uri) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(uri, "uri");
    if (clusterSeeds(uri) != null) {
      throw new IllegalArgumentException("Invalid Redis URI '" + uri + "' for a RedisClient: a cluster needs a"
          + " RedisClusterClient (RedisLimits.connect(RedisClusterClient))");
    }
    RedisURI parsed = parse(uri);
    return new RedisLimits(describe(parsed), null, client, false, parsed);
  }

  /**
   * On an existing Lettuce {@link RedisClusterClient} of the application's (its seed nodes, its options), which opens
   * one more connection for the limiters. {@link #close()} closes that connection and leaves the client running; see
   * {@link #connect(RedisClient, String)} about its options.
   */
  public static RedisLimits connect(RedisClusterClient client) {
    Objects.requireNonNull(client, "client");
    return new RedisLimits("Redis Cluster (the application's client)", null, client, false, null);
  }

  private static RedisLimits open(String uri, ClientResources resources, boolean ownsResources) {
    List<RedisURI> cluster = clusterSeeds(uri);
    ClientResources owned = ownsResources ? resources : null;
    if (cluster != null) {
      RedisClusterClient c = RedisClusterClient.create(resources, cluster);
      c.setOptions(ClusterClientOptions.builder()
          .autoReconnect(true)
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build())
          .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(10)))
          .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers().build())
          .build());
      return new RedisLimits("Redis Cluster " + seedsText(cluster), owned, c, true, null);
    }
    RedisURI standalone = parse(uri);
    RedisClient c = RedisClient.create(resources);
    // Commands fail at once while disconnected instead of piling up and running late (after the failure policy
    // has answered for them); Lettuce's own timeout only bounds the queue of a server that stopped answering.
    c.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build())
        .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(10)))
        .build());
    return new RedisLimits(describe(standalone), owned, c, true, standalone);
  }

  private static RedisURI parse(String uri) {
    try {
      return RedisURI.create(uri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid Redis URI '" + uri + "': " + e.getMessage()
          + ". Expected redis://host:port, rediss://..., redis-sentinel://host:port#master or"
          + " redis-cluster://host:port,host:port", e);
    }
  }

  /** Starts a distributed limiter for {@code limit} on this connection, with {@code String} keys (UTF-8). */
  public RedisRateLimiter.Builder<String> limiter(Limit limit) {
    return new RedisRateLimiter.Builder<>(this, limit, RedisRateLimiter.Builder::utf8);
  }

  /** Whether a connection to Redis is established now. */
  /** Whether the connection is to a Redis Cluster (a script call's keys must then share one slot). */
  boolean isCluster() {
    return standalone == null;
  }

  public boolean isConnected() {
    StatefulConnection<byte[], byte[]> c = connection;
    return c != null && c.isOpen();
  }

  /**
   * Closes the connection, and the client and its threads when {@link #connect(String)} made them (a client or
   * resources given by the application keep running). Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    StatefulConnection<byte[], byte[]> c = connection;
    commands = null;
    connection = null;
    if (c != null) {
      c.close();
    }
    if (ownsClient) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (resources != null) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  @Override
  public String toString() {
    return "RedisLimits[" + description + (isConnected() ? ", connected" : ", not connected") + "]";
  }

  /**
   * Runs the script with {@code EVALSHA}, or with {@code EVAL} when the server does not have it (after a restart,
   * or on a cluster node seen for the first time), which also loads it there; then calls {@code done} with the
   * reply or the failure, in Lettuce's I/O thread. Fails at once when not connected.
   */
  void eval(byte[][] keys, byte[][] args, BiConsumer<List<Object>, Throwable> done) {
    RedisScriptingAsyncCommands<byte[], byte[]> c = commands;
    if (c == null) {
      done.accept(null, new RedisConnectionException(closed ? "closed: " + description : "not connected to " + description));
      return;
    }
    c.<List<Object>>evalsha(BucketScript.SHA, ScriptOutputType.MULTI, keys, args).whenComplete((reply, e) -> {
      if (e != null && isNoScript(e)) {
        c.<List<Object>>eval(BucketScript.SOURCE_BYTES, ScriptOutputType.MULTI, keys, args).whenComplete(done);
      } else {
        done.accept(reply, e);
      }
    });
  }

  private static boolean isNoScript(Throwable e) {
    Throwable t = DegradedLog.unwrap(e);
    return t instanceof RedisNoScriptException || (t.getMessage() != null && t.getMessage().startsWith("NOSCRIPT"));
  }

  /** One attempt (and, when it fails, the next ones in the background); the future is this attempt's. */
  private CompletableFuture<?> connect(long retryNanos) {
    if (closed) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<? extends StatefulConnection<byte[], byte[]>> attempt;
    try {
      attempt = standalone != null
          ? ((RedisClient) client).connectAsync(ByteArrayCodec.INSTANCE, standalone).toCompletableFuture()
          : connectCluster((RedisClusterClient) client);
    } catch (RuntimeException e) {
      attempt = CompletableFuture.failedFuture(e);
    }
    return attempt.thenCompose(c -> warmUp(c).handle((v, warmUpFailure) -> c)).whenComplete((c, e) -> {
      if (e == null) {
        if (closed) {
          c.closeAsync();
          return;
        }
        connection = c;
        commands = c instanceof StatefulRedisClusterConnection<byte[], byte[]> cc ? cc.async()
            : ((StatefulRedisConnection<byte[], byte[]>) c).async();
        log.info("connected to {}", description);
        return;
      }
      if (closed) {
        return;
      }
      connectLog.warn("cannot connect to " + description + " (retrying in the background)", e);
      long next = Math.min(LAST_RETRY_NANOS, retryNanos * 2);
      Scheduler.shared().schedule(() -> connect(next), retryNanos);
    });
  }

  /**
   * Warms a new connection before any limiter uses it: loads the script (so the first decision is one
   * {@code EVALSHA}, not a {@code NOSCRIPT} and an {@code EVAL}) and runs it once, writing nothing, so that the first
   * decision does not pay for cold code on either side. A failure here is only logged by the first decision's path.
   */
  private static CompletableFuture<?> warmUp(StatefulConnection<byte[], byte[]> c) {
    if (c instanceof StatefulRedisConnection<byte[], byte[]> single) {
      RedisScriptingAsyncCommands<byte[], byte[]> async = single.async();
      return async.scriptLoad(BucketScript.SOURCE_BYTES).toCompletableFuture()
          .thenCompose(sha -> async.<List<Object>>evalsha(BucketScript.SHA, ScriptOutputType.MULTI,
              new byte[][] {WARM_UP_KEY}, WARM_UP_SCRIPT.args(BucketScript.ESTIMATE, 1, -1, 0, 0))
              .toCompletableFuture());
    }
    return CompletableFuture.completedFuture(null); // a cluster's masters are warmed when it connects
  }

  /** A key no limiter uses (prefixes end with ':' before a '{'), read and never written by the warm-up. */
  private static final byte[] WARM_UP_KEY = "throttle-warm-up".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static final BucketScript WARM_UP_SCRIPT = new BucketScript(Limit.parse("1/s"));

  /**
   * A cluster connection needs the topology first (Lettuce's async connect does not load it), and then a connection
   * to each master, which Lettuce opens on first use and, with commands rejected while disconnected, would refuse
   * that first command: so each master runs the script once, writing nothing (which also loads it there), until it
   * passes (at most 2 seconds).
   */
  private static CompletableFuture<StatefulRedisClusterConnection<byte[], byte[]>> connectCluster(
      RedisClusterClient cluster) {
    return cluster.refreshPartitionsAsync().toCompletableFuture()
        .thenCompose(loaded -> cluster.connectAsync(ByteArrayCodec.INSTANCE))
        .thenCompose(c -> {
          List<CompletableFuture<Void>> masters = new ArrayList<>();
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
          for (RedisClusterNode node : cluster.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.getSlots().isEmpty()) {
              CompletableFuture<Void> open = new CompletableFuture<>();
              touch(c, keyInSlot(node.getSlots().get(0)), deadline, open);
              masters.add(open);
            }
          }
          return CompletableFuture.allOf(masters.toArray(new CompletableFuture<?>[0])).handle((v, e) -> c);
        });
  }

  private static void touch(StatefulRedisClusterConnection<byte[], byte[]> c, byte[] key, long deadline,
      CompletableFuture<Void> open) {
    c.async().<List<Object>>eval(BucketScript.SOURCE_BYTES, ScriptOutputType.MULTI, new byte[][] {key},
        WARM_UP_SCRIPT.args(BucketScript.ESTIMATE, 1, -1, 0, 0)).whenComplete((v, e) -> {
      if (e == null || System.nanoTime() - deadline > 0) {
        open.complete(null);
      } else {
        Scheduler.shared().schedule(() -> touch(c, key, deadline, open), TimeUnit.MILLISECONDS.toNanos(10));
      }
    });
  }

  /** A key that Redis Cluster puts in {@code slot}. */
  static byte[] keyInSlot(int slot) {
    for (int i = 0; ; i++) {
      byte[] key = ("throttle-connect:{" + i + "}").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      if (SlotHash.getSlot(key) == slot) {
        return key;
      }
    }
  }

  /** The seeds of a {@code redis-cluster://} URI, or null for any other URI. */
  static List<RedisURI> clusterSeeds(String uri) {
    String scheme;
    if (uri.startsWith("redis-cluster://")) {
      scheme = "redis://";
    } else if (uri.startsWith("rediss-cluster://")) {
      scheme = "rediss://";
    } else {
      return null;
    }
    String rest = uri.substring(uri.indexOf("://") + 3);
    String credentials = "";
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      credentials = rest.substring(0, at + 1);
      rest = rest.substring(at + 1);
    }
    List<RedisURI> seeds = new ArrayList<>();
    for (String node : rest.split(",")) {
      String trimmed = node.strip();
      if (trimmed.isEmpty() || trimmed.contains("/")) {
        throw new IllegalArgumentException("Invalid Redis Cluster URI '" + uri
            + "': expected redis-cluster://[[user]:password@]host:port[,host:port...] (a cluster has no database)");
      }
      seeds.add(RedisURI.create(scheme + credentials + trimmed));
    }
    return seeds;
  }

  private static String seedsText(List<RedisURI> seeds) {
    StringBuilder sb = new StringBuilder();
    for (RedisURI u : seeds) {
      sb.append(sb.length() == 0 ? "" : ",").append(u.getHost()).append(':').append(u.getPort());
    }
    return sb.toString();
  }

  private static String describe(RedisURI uri) {
    if (!uri.getSentinels().isEmpty()) {
      return "Redis Sentinel master '" + uri.getSentinelMasterId() + "' via " + seedsText(uri.getSentinels());
    }
    return "Redis " + uri.getHost() + ":" + uri.getPort() + (uri.getDatabase() != 0 ? "/" + uri.getDatabase() : "");
  }
}
