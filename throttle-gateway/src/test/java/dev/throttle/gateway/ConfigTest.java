package dev.throttle.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.Limit;
import dev.throttle.http.Rule;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The YAML configuration: the documented example reads as documented, and every error points at its line. */
class ConfigTest {

  private static final String HEAD = "upstream: http://127.0.0.1:9000\n";

  @Test
  void theDocumentedExampleReadsAsItsCommentsSay() {
    GatewayConfig c = GatewayConfig.load(Path.of("..", "examples", "throttle.yaml"));
    assertThat(c.host()).isEqualTo("0.0.0.0");
    assertThat(c.port()).isEqualTo(8080);
    assertThat(c.adminHost()).isEqualTo("127.0.0.1");
    assertThat(c.adminPort()).isEqualTo(8901);
    assertThat(c.upstream()).hasToString("http://127.0.0.1:9000");
    assertThat(c.redisUri()).isNull();
    assertThat(c.redisLease()).isZero();
    assertThat(c.maxBodyBytes()).isEqualTo(10L << 20);
    assertThat(c.grace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.headerTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.idleTimeout()).isEqualTo(Duration.ofSeconds(75));
    assertThat(c.routes()).extracting(GatewayConfig.Route::name).containsExactly("login", "export", "api");
    Rule login = c.routes().get(0).rules().get(0);
    assertThat(login.name()).isEqualTo("login");
    assertThat(login.pathPrefix()).isEqualTo("/api/login");
    assertThat(login.methods()).containsExactly("POST");
    assertThat(login.limit()).isEqualTo(Limit.parse("5/min burst 5"));
    Rule export = c.routes().get(1).rules().get(0);
    assertThat(export.methods()).containsExactly("GET", "HEAD");
    assertThat(export.cost()).isEqualTo(2);
    assertThat(export.isDryRun()).isTrue();
    assertThat(c.routes().get(2).rules()).extracting(Rule::name).containsExactly("api.per-ip", "api.per-key");
    Rule perKey = c.routes().get(2).rules().get(1);
    assertThat(perKey.mode()).isEqualTo(Rule.Mode.DELAY);
    assertThat(perKey.maxWait()).isEqualTo(Duration.ofSeconds(2));
    assertThat(perKey.limit()).isEqualTo(Limit.parse("100/s burst 20 and 100000/day"));
    assertThat(perKey.key()).hasToString("header:X-API-Key");
  }

  @Test
  void theRedisSettingsAreRead() {
    GatewayConfig c = GatewayConfig.parse(HEAD + "store: redis://127.0.0.1:6380\nredis-timeout: 20ms\n"
        + "on-redis-failure: local-share:3\nredis-lease: 8\nmax-keys: 10\nroutes:\n  - rules:\n      - limit: 1/s\n",
        "g.yaml");
    assertThat(c.redisUri()).isEqualTo("redis://127.0.0.1:6380");
    assertThat(c.redisLease()).isEqualTo(8);
    assertThat(c.redisTimeout()).isEqualTo(Duration.ofMillis(20));
    assertThat(c.redisFailure()).hasToString("local 1/3 of the limit");
    assertThat(c.routes().get(0).name()).isEqualTo("route-1");
    assertThat(c.routes().get(0).path()).isEqualTo("/");
  }

  /** Each bad value: the file, its line, and the value quoted. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      bad limit              | 4 | routes:\\n  - rules:\\n      - name: r\\n        limit: 10/fortnight                 | Invalid limit '10/fortnight'
      unknown rule setting   | 4 | routes:\\n  - rules:\\n      - limit: 1/s\\n        limt: 2/s                       | unknown setting 'limt' in a rule
      unknown top setting    | 2 | listen: 8080\\nlisen: 8081\\nroutes:\\n  - rules:\\n      - limit: 1/s                | unknown setting 'lisen'
      delay without wait     | 4 | routes:\\n  - rules:\\n      - limit: 1/s\\n        mode: delay                     | mode delay needs max-wait
      bad max wait           | 5 | routes:\\n  - rules:\\n      - limit: 1/s\\n        mode: delay\\n        max-wait: soon | max-wait: 'soon' is not a duration
      bad mode               | 4 | routes:\\n  - rules:\\n      - limit: 1/s\\n        mode: queue                     | mode must be reject or delay, got 'queue'
      negative lease         | 1 | redis-lease: -1\\nroutes:\\n  - rules:\\n      - limit: 1/s                              | redis-lease must be 0 (no lease) or a number of tokens, got -1
      cost over burst        | 4 | routes:\\n  - rules:\\n      - limit: 5/s\\n        cost: 9                         | the cost 9 exceeds the burst
      bad key                | 4 | routes:\\n  - rules:\\n      - limit: 5/s\\n        key: cookie:x                   | cookie:x
      bad path               | 2 | routes:\\n  - path: api\\n    rules:\\n      - limit: 5/s                             | got 'api'
      bad method             | 2 | routes:\\n  - methods: [GET, 'PO ST']\\n    rules:\\n      - limit: 5/s               | 'PO ST' is not an HTTP method
      no rules               | 2 | routes:\\n  - name: api\\n    path: /api                                                 | route 'api' has no rules
      bad store              | 1 | store: mongodb://x\\nroutes:\\n  - rules:\\n      - limit: 5/s                           | got 'mongodb://x'
      bad failure policy     | 1 | on-redis-failure: retry\\nroutes:\\n  - rules:\\n      - limit: 5/s                      | got 'retry'
      bad port               | 1 | listen: 0.0.0.0:70000\\nroutes:\\n  - rules:\\n      - limit: 5/s                      | got 70000
      bad size               | 1 | max-body: lots\\nroutes:\\n  - rules:\\n      - limit: 5/s                              | got 'lots'
      bad proxies            | 1 | trusted-proxies: [10.0.0.0/33]\\nroutes:\\n  - rules:\\n      - limit: 5/s               | 10.0.0.0/33
      duplicate key          | 2 | listen: 8080\\nlisten: 8081\\nroutes:\\n  - rules:\\n      - limit: 1/s                | 'listen' is set twice in the configuration (first on line 2)
      broken yaml            | 3 | routes:\\n  - rules: [limit: 1/s\\n                                                      | not valid YAML
      rules not a list       | 2 | routes:\\n  - rules: 1/s                                                                 | rules must be a list
      bad boolean            | 4 | routes:\\n  - rules:\\n      - limit: 1/s\\n        dry-run: maybe                  | got 'maybe'
      same route name twice  | 5 | routes:\\n  - name: a\\n    rules:\\n      - limit: 1/s\\n  - name: a\\n    rules:\\n      - limit: 1/s | two routes are named 'a'
      """)
  void anErrorNamesTheFileTheLineAndTheValue(String what, int line, String yaml, String expected) {
    String text = HEAD + yaml.replace("\\n", "\n");
    assertThatThrownBy(() -> GatewayConfig.parse(text, "gw.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("gw.yaml:" + (line + 1) + ": ")
        .hasMessageContaining(expected)
        .satisfies(e -> assertThat(((ConfigException) e).line()).isEqualTo(line + 1));
  }

  @Test
  void missingPartsAreNamed() {
    assertThatThrownBy(() -> GatewayConfig.parse("routes:\n  - rules:\n      - limit: 1/s\n", "gw.yaml"))
        .hasMessage("gw.yaml: no upstream (for example upstream: http://127.0.0.1:9000)");
    assertThatThrownBy(() -> GatewayConfig.parse(HEAD, "gw.yaml")).hasMessageContaining("gw.yaml:1: no routes");
    assertThatThrownBy(() -> GatewayConfig.parse("", "gw.yaml")).hasMessageContaining("gw.yaml:1: the file is empty");
    assertThatThrownBy(() -> GatewayConfig.parse("upstream: ftp://x\nroutes:\n  - rules:\n      - limit: 1/s\n",
        "gw.yaml")).hasMessageContaining("gw.yaml:1: upstream must be http://host:port")
        .hasMessageContaining("'ftp://x'");
    assertThatThrownBy(() -> GatewayConfig.load(Path.of("no-such-file.yaml")))
        .hasMessageStartingWith("no-such-file.yaml: cannot read the configuration");
  }

  @Test
  void theAdminAddressIsLoopbackUnlessSaidOtherwise() {
    GatewayConfig c = GatewayConfig.builder().upstream("http://127.0.0.1:1")
        .route(new GatewayConfig.Route("r", java.util.List.of(Rule.builder("r").limit("1/s").build()))).build();
    assertThat(c.adminHost()).isEqualTo("127.0.0.1");
    assertThat(c.host()).isEqualTo("0.0.0.0");
  }
}
