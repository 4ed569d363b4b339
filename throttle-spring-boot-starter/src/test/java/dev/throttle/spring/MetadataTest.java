package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The configuration metadata IDEs complete throttle.* keys from is in the jar, with descriptions and hints. */
class MetadataTest {

  @Test
  void everySettingIsDescribedForIdes() throws IOException {
    String json;
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("META-INF/spring-configuration-metadata.json").isNotNull();
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    for (String key : new String[] {"throttle.enabled", "throttle.store", "throttle.max-keys", "throttle.redis-timeout",
        "throttle.on-redis-failure", "throttle.redis-prefix", "throttle.redis-lease", "throttle.trusted-proxies", "throttle.forwarded-header",
        "throttle.legacy-headers", "throttle.rate-limit-headers", "throttle.filter-order", "throttle.routes"}) {
      assertThat(json).contains("\"name\": \"" + key + "\"");
    }
    // The nested types of routes and rules, whose fields IDEs complete inside the lists.
    assertThat(json).contains("dev.throttle.spring.ThrottleProperties$Route")
        .contains("Whether to throttle at all")
        .contains("\"value\": \"fail-open\"").contains("\"value\": \"draft-7\"");
  }
}
