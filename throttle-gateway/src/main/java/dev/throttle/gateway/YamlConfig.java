package dev.throttle.gateway;

import dev.throttle.core.Durations;
import dev.throttle.http.KeyResolver;
import dev.throttle.http.RateLimitHeaders;
import dev.throttle.http.Rule;
import dev.throttle.http.TrustedProxies;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the YAML form of a {@link GatewayConfig} from SnakeYAML's node tree (composed, never constructed into
 * objects: no tag can instantiate a class), so that every error names the line of the value at fault.
 */
final class YamlConfig {

  private static final List<String> TOP = List.of("listen", "admin", "upstream", "store", "redis-timeout",
      "on-redis-failure", "redis-prefix", "redis-lease", "access-log", "max-keys", "trusted-proxies", "forwarded-header", "legacy-headers",
      "rate-limit-headers",
      "connect-timeout", "upstream-timeout", "header-timeout", "idle-timeout", "max-body", "grace", "event-loops",
      "upstream-connections", "routes");
  private static final List<String> ROUTE = List.of("name", "path", "methods", "rules");
  private static final List<String> RULE = List.of("name", "limit", "key", "cost", "mode", "max-wait",
      "on-missing-key", "dry-run");

  private final String file;

  YamlConfig(String file) {
    this.file = file;
  }

  GatewayConfig read(String yaml) {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setMaxAliasesForCollections(10);
      root = new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new ConfigException(file, line, "not valid YAML: " + e.getProblem());
    } catch (YAMLException e) {
      throw new ConfigException(file, 0, "not valid YAML: " + e.getMessage());
    }
    if (root == null) {
      throw new ConfigException(file, 1, "the file is empty (expected settings such as 'upstream:' and 'routes:')");
    }
    Map<String, NodeTuple> top = mapping(root, "the configuration", TOP);
    GatewayConfig.Builder b = GatewayConfig.builder();

    // The proxies first: the rules' ip keys are read through them.
    TrustedProxies proxies = TrustedProxies.none();
    NodeTuple tp = top.get("trusted-proxies");
    if (tp != null) {
      Node v = tp.getValueNode();
      String text = v instanceof SequenceNode seq
          ? String.join(",", seq.getValue().stream().map(n -> scalar(n, "trusted-proxies")).toList())
          : scalar(v, "trusted-proxies");
      proxies = at(v, () -> TrustedProxies.parse(text));
    }
    NodeTuple fh = top.get("forwarded-header");
    if (fh != null) {
      Node v = fh.getValueNode();
      TrustedProxies.Header h = at(v, () -> GatewayConfig.parseForwardedHeader(scalar(v, "forwarded-header")));
      proxies = proxies.via(h);
    }

    for (Map.Entry<String, NodeTuple> e : top.entrySet()) {
      Node v = e.getValue().getValueNode();
      switch (e.getKey()) {
        case "listen" -> {
          HostPort hp = hostPort(v, "listen", GatewayConfig.DEFAULT_HOST);
          at(v, () -> b.listen(hp.host, hp.port));
        }
        case "admin" -> {
          if (scalarOrNull(v) != null && scalarOrNull(v).equalsIgnoreCase("off")) {
            b.noAdmin();
          } else {
            HostPort hp = hostPort(v, "admin", GatewayConfig.DEFAULT_ADMIN_HOST);
            at(v, () -> b.admin(hp.host, hp.port));
          }
        }
        case "upstream" -> at(v, () -> b.upstream(scalar(v, "upstream")));
        case "store" -> {
          String s = scalar(v, "store");
          at(v, () -> s.equalsIgnoreCase("memory") ? b : b.redisStore(s));
        }
        case "redis-timeout" -> at(v, () -> b.redisTimeout(duration(v, e.getKey())));
        case "on-redis-failure" -> at(v, () -> b.redisFailure(GatewayConfig.parseFailurePolicy(scalar(v, e.getKey()))));
        case "redis-prefix" -> at(v, () -> b.redisPrefix(scalar(v, e.getKey())));
        case "redis-lease" -> at(v, () -> b.redisLease(integer(v, e.getKey())));
        case "access-log" -> at(v, () -> b.accessLog(scalar(v, e.getKey())));
        case "max-keys" -> at(v, () -> b.maxKeys(integer(v, e.getKey())));
        case "legacy-headers" -> b.legacyHeaders(bool(v, e.getKey()));
        case "rate-limit-headers" -> at(v, () -> b.rateLimitHeaders(RateLimitHeaders.parse(scalar(v, e.getKey()))));
        case "connect-timeout" -> at(v, () -> b.connectTimeout(duration(v, e.getKey())));
        case "upstream-timeout" -> at(v, () -> b.upstreamTimeout(duration(v, e.getKey())));
        case "header-timeout" -> at(v, () -> b.headerTimeout(duration(v, e.getKey())));
        case "idle-timeout" -> at(v, () -> b.idleTimeout(duration(v, e.getKey())));
        case "max-body" -> at(v, () -> b.maxBodyBytes(GatewayConfig.parseSize(scalar(v, e.getKey()))));
        case "grace" -> at(v, () -> b.grace(duration(v, e.getKey())));
        case "event-loops" -> at(v, () -> b.eventLoops(integer(v, e.getKey())));
        case "upstream-connections" -> at(v, () -> b.upstreamConnections(integer(v, e.getKey())));
        default -> { } // trusted-proxies and forwarded-header above, routes below
      }
    }
    NodeTuple routes = top.get("routes");
    if (routes == null) {
      throw new ConfigException(file, 1, "no routes (expected 'routes:' with at least one route and its rules)");
    }
    List<Node> list = sequence(routes.getValueNode(), "routes");
    if (list.isEmpty()) {
      throw error(routes.getValueNode(), "routes is empty (give at least one route with a rule)");
    }
    for (int i = 0; i < list.size(); i++) {
      Node routeNode = list.get(i);
      GatewayConfig.Route route = route(routeNode, i + 1, proxies);
      at(routeNode, () -> b.route(route));
    }
    try {
      return b.build();
    } catch (ConfigException e) {
      throw new ConfigException(file, 0, e.getMessage());
    }
  }

  private GatewayConfig.Route route(Node node, int index, TrustedProxies proxies) {
    Map<String, NodeTuple> m = mapping(node, "a route", ROUTE);
    String name = m.containsKey("name") ? scalar(m.get("name").getValueNode(), "name") : "route-" + index;
    NodeTuple rulesTuple = m.get("rules");
    if (rulesTuple == null) {
      throw error(node, "route '" + name + "' has no rules (expected 'rules:' with at least one rule, such as"
          + " '- limit: 100/s')");
    }
    List<Node> ruleNodes = sequence(rulesTuple.getValueNode(), "rules");
    if (ruleNodes.isEmpty()) {
      throw error(rulesTuple.getValueNode(), "route '" + name + "' has no rules (give at least one)");
    }
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < ruleNodes.size(); i++) {
      rules.add(rule(ruleNodes.get(i), name, i + 1, ruleNodes.size(), m, proxies));
    }
    return at(node, () -> new GatewayConfig.Route(name, rules));
  }

  private Rule rule(Node node, String route, int index, int count, Map<String, NodeTuple> routeMap,
      TrustedProxies proxies) {
    Map<String, NodeTuple> m = mapping(node, "a rule", RULE);
    String name;
    if (m.containsKey("name")) {
      name = route + "." + scalar(m.get("name").getValueNode(), "name");
    } else {
      name = count == 1 ? route : route + "." + index;
    }
    Node nameNode = m.containsKey("name") ? m.get("name").getValueNode() : node;
    Rule.Builder b = at(nameNode, () -> Rule.builder(name).trustedProxies(proxies));
    NodeTuple path = routeMap.get("path");
    if (path != null) {
      at(path.getValueNode(), () -> b.path(scalar(path.getValueNode(), "path")));
    }
    NodeTuple methods = routeMap.get("methods");
    if (methods != null) {
      Node v = methods.getValueNode();
      List<String> list = v instanceof SequenceNode seq
          ? seq.getValue().stream().map(n -> scalar(n, "methods")).toList()
          : List.of(scalar(v, "methods").split(","));
      at(v, () -> b.methods(list.toArray(String[]::new)));
    }
    NodeTuple limit = m.get("limit");
    if (limit == null) {
      throw error(node, "rule '" + name + "' has no limit (for example 'limit: 100/s burst 20')");
    }
    at(limit.getValueNode(), () -> b.limit(scalar(limit.getValueNode(), "limit")));
    for (Map.Entry<String, NodeTuple> e : m.entrySet()) {
      Node v = e.getValue().getValueNode();
      switch (e.getKey()) {
        case "key" -> at(v, () -> b.key(scalar(v, "key")));
        case "cost" -> at(v, () -> b.cost(integer(v, "cost")));
        case "on-missing-key" -> {
          String s = scalar(v, "on-missing-key").toUpperCase(Locale.ROOT).replace('-', '_');
          try {
            b.onMissingKey(Rule.MissingKey.valueOf(s));
          } catch (IllegalArgumentException ex) {
            throw error(v, "on-missing-key must be shared, reject or allow, got '" + scalar(v, "on-missing-key") + "'");
          }
        }
        case "dry-run" -> b.dryRun(bool(v, "dry-run"));
        default -> { } // name and limit above; mode and max-wait below
      }
    }
    NodeTuple mode = m.get("mode");
    NodeTuple maxWait = m.get("max-wait");
    String modeText = mode == null ? "reject" : scalar(mode.getValueNode(), "mode").toLowerCase(Locale.ROOT);
    if (modeText.equals("delay")) {
      if (maxWait == null) {
        throw error(mode.getValueNode(), "rule '" + name + "': mode delay needs max-wait, the longest a request may"
            + " wait (for example 'max-wait: 2s')");
      }
      Node v = maxWait.getValueNode();
      Duration wait = duration(v, "max-wait");
      at(v, () -> b.delay(wait));
    } else if (modeText.equals("reject")) {
      if (maxWait != null) {
        throw error(maxWait.getValueNode(), "rule '" + name + "': max-wait applies to mode delay only");
      }
    } else {
      throw error(mode.getValueNode(), "mode must be reject or delay, got '" + scalar(mode.getValueNode(), "mode")
          + "'");
    }
    NodeTuple cost = m.get("cost");
    return at(cost != null ? cost.getValueNode() : limit.getValueNode(), b::build);
  }

  // ---- nodes ----

  private record HostPort(String host, int port) {}

  /** {@code host:port}, {@code :port} or a bare port. */
  private HostPort hostPort(Node v, String what, String defaultHost) {
    String s = scalar(v, what);
    int colon = s.lastIndexOf(':');
    String host = colon < 0 ? defaultHost : s.substring(0, colon);
    if (host.isEmpty()) {
      host = defaultHost;
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String port = colon < 0 ? s : s.substring(colon + 1);
    try {
      return new HostPort(host, Integer.parseInt(port.strip()));
    } catch (NumberFormatException e) {
      throw error(v, what + " must be host:port or a port, such as 0.0.0.0:8080 or 8080, got '" + s + "'");
    }
  }

  private Map<String, NodeTuple> mapping(Node node, String what, List<String> known) {
    if (!(node instanceof MappingNode map)) {
      throw error(node, what + " must be a mapping of settings (name: value), got " + describe(node));
    }
    Map<String, NodeTuple> out = new LinkedHashMap<>();
    for (NodeTuple t : map.getValue()) {
      String key = scalar(t.getKeyNode(), "a setting name");
      if (!known.contains(key)) {
        throw error(t.getKeyNode(), "unknown setting '" + key + "' in " + what + " (known: "
            + String.join(", ", known) + ")");
      }
      NodeTuple previous = out.put(key, t);
      if (previous != null) {
        throw error(t.getKeyNode(), "'" + key + "' is set twice in " + what + " (first on line "
            + (previous.getKeyNode().getStartMark().getLine() + 1) + ")");
      }
    }
    return out;
  }

  private List<Node> sequence(Node node, String what) {
    if (!(node instanceof SequenceNode seq)) {
      throw error(node, what + " must be a list (lines starting with '- '), got " + describe(node));
    }
    return seq.getValue();
  }

  private String scalar(Node node, String what) {
    String s = scalarOrNull(node);
    if (s == null) {
      throw error(node, what + " must be a single value, got " + describe(node));
    }
    return s;
  }

  private static String scalarOrNull(Node node) {
    return node instanceof ScalarNode s ? s.getValue().strip() : null;
  }

  private Duration duration(Node node, String what) {
    String s = scalar(node, what);
    try {
      return Durations.parse(s);
    } catch (IllegalArgumentException e) {
      throw error(node, what + ": " + e.getMessage());
    }
  }

  private int integer(Node node, String what) {
    String s = scalar(node, what);
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw error(node, what + " must be a whole number, got '" + s + "'");
    }
  }

  private boolean bool(Node node, String what) {
    String s = scalar(node, what).toLowerCase(Locale.ROOT);
    return switch (s) {
      case "true" -> true;
      case "false" -> false;
      default -> throw error(node, what + " must be true or false, got '" + scalar(node, what) + "'");
    };
  }

  private static String describe(Node node) {
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    return "'" + ((ScalarNode) node).getValue() + "'";
  }

  private ConfigException error(Node node, String message) {
    return new ConfigException(file, node.getStartMark().getLine() + 1, message);
  }

  /** Runs a setter, turning its error into one on {@code node}'s line. */
  private <T> T at(Node node, java.util.function.Supplier<T> setter) {
    try {
      return setter.get();
    } catch (ConfigException e) {
      if (e.file() != null) {
        throw e;
      }
      throw error(node, e.getMessage());
    } catch (IllegalArgumentException e) {
      throw error(node, e.getMessage());
    }
  }
}
