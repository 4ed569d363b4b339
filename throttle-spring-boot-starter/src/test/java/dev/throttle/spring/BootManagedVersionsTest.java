package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.Version;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootVersion;

/**
 * The tests run on what a Boot application gets: Boot's dependency management replaces the Lettuce 7 and Netty 4.2
 * that throttle-redis is built with by its own (Lettuce 6.6 and Netty 4.1 on Boot 3.5; Lettuce 6.8 and Netty 4.2 on
 * Boot 4.0), and the Redis tests pass on those; and Micrometer is the one Boot manages (1.15 on 3.5, 1.16 on 4.0).
 */
class BootManagedVersionsTest {

  @Test
  void theTestsRunOnTheLettuceAndNettyThatBootManages() {
    String line = System.getProperty("boot.line", "3.5");
    assertThat(SpringBootVersion.getVersion()).startsWith(line + ".");
    String lettuce = RedisClient.class.getPackage().getImplementationVersion();
    String netty = Version.identify().get("netty-common").artifactVersion();
    String micrometer = MeterRegistry.class.getPackage().getImplementationVersion();
    if (line.equals("3.5")) {
      assertThat(lettuce).startsWith("6.6.");
      assertThat(netty).startsWith("4.1.");
      assertThat(micrometer).startsWith("1.15.");
    } else {
      assertThat(lettuce).startsWith("6.8.");
      assertThat(netty).startsWith("4.2.");
      assertThat(micrometer).startsWith("1.16.");
    }
  }
}
