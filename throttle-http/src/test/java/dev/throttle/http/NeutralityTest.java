package dev.throttle.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The policy knows no server: only the adapter package may use the Servlet API. */
class NeutralityTest {

  @Test
  void thePolicyPackageUsesNoServletType() throws IOException {
    Path policy = Path.of("src/main/java/dev/throttle/http");
    List<Path> sources;
    try (Stream<Path> files = Files.list(policy)) {
      sources = files.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertThat(sources).hasSizeGreaterThan(10);
    for (Path source : sources) {
      assertThat(Files.readString(source)).as(source.toString()).doesNotContain("jakarta.", "javax.servlet");
    }
  }
}
