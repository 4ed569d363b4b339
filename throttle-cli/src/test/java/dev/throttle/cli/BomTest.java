package dev.throttle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * throttle-bom manages every published module of the reactor (all but the benchmarks, the examples and itself), at the parent's
 * version, and nothing else: a module added without it, or a BOM that would also pin third-party versions for its
 * users, fails here.
 */
class BomTest {

  private static final Path ROOT = Path.of("..");

  @Test
  void theBomListsEveryPublishedModuleAndNothingElse() throws Exception {
    String parent = Files.readString(ROOT.resolve("pom.xml"));
    String bom = Files.readString(ROOT.resolve("throttle-bom/pom.xml"));
    List<String> published = new ArrayList<>(all(parent, "<module>([^<]+)</module>"));
    published.removeAll(List.of("throttle-bench", "throttle-bom"));
    published.removeIf(module -> module.startsWith("examples/")); // applications, not libraries
    String managed = bom.substring(bom.indexOf("<dependencyManagement>"));
    assertThat(all(managed, "<artifactId>([^<]+)</artifactId>")).containsExactlyInAnyOrderElementsOf(published);
    assertThat(all(managed, "<groupId>([^<]+)</groupId>")).containsOnly("dev.throttle");
    assertThat(bom).as("no parent: a user importing the BOM gets Throttle's versions only").doesNotContain("<parent>");
    assertThat(first(bom, "<version>([^<]+)</version>")).isEqualTo(first(parent, "<version>([^<]+)</version>"));
    for (String module : published) {
      // the default build: a profile for another line of a framework (the starter's -Pboot4) may skip them
      String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"))
          .replaceAll("(?s)<profiles>.*</profiles>", "");
      assertThat(pom).as(module).doesNotContain("<maven.javadoc.skip>true").doesNotContain("<maven.source.skip>true");
    }
  }

  private static List<String> all(String text, String regex) {
    List<String> found = new ArrayList<>();
    Matcher m = Pattern.compile(regex).matcher(text);
    while (m.find()) {
      found.add(m.group(1).strip());
    }
    return found;
  }

  private static String first(String text, String regex) {
    return all(text, regex).get(0);
  }
}
