package dev.throttle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Every {@code java} block of README.md compiles against the modules as built. A block is a fragment: it is compiled
 * as the body of a method of a class that declares what the README leaves to the reader ({@code userId},
 * {@code request}, {@code registry}, {@code send()}...), with {@code ...} (code left out) read as nothing; a block
 * that declares a top-level class is compiled as a file of its own. Imports are the modules' API packages and the JDK's.
 */
class ReadmeSnippetsTest {

  private static final String IMPORTS = String.join("\n",
      "import dev.throttle.core.*;", "import dev.throttle.client.*;", "import dev.throttle.http.*;",
      "import dev.throttle.http.servlet.*;", "import dev.throttle.redis.*;", "import dev.throttle.micrometer.*;",
      "import io.micrometer.core.instrument.MeterRegistry;", "import jakarta.servlet.*;",
      "import jakarta.servlet.annotation.*;", "import java.net.URI;", "import java.net.http.*;",
      "import java.net.http.HttpResponse.BodyHandlers;", "import java.time.Duration;", "import java.util.*;",
      "import java.util.concurrent.*;", "");

  /** What the README's fragments take as given. */
  private static final String GIVEN = String.join("\n",
      "  String userId = \"user-1\";",
      "  HttpRequest request = HttpRequest.newBuilder(URI.create(\"http://localhost/\")).build();",
      "  MeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();",
      "  Rule rule = Rule.builder(\"api\").path(\"/api\").limit(\"10/s\").build();",
      "  RedisRateLimiter<String> redisLimiter = null;",
      "  CompletableFuture<Void> send() { return CompletableFuture.completedFuture(null); }",
      "  void proceed() {}", "");

  @Test
  void everyJavaBlockOfTheReadmeCompiles() throws IOException {
    List<String> blocks = javaBlocks(Files.readString(Path.of("..", "README.md")));
    assertThat(blocks).as("java blocks in README.md").hasSizeGreaterThanOrEqualTo(5);
    List<JavaFileObject> sources = new ArrayList<>();
    for (int i = 0; i < blocks.size(); i++) {
      String code = blocks.get(i).replaceAll("\\{\\s*\\.\\.\\.\\s*\\}", "{ }").replace("-> ...", "-> { }");
      String name = "Snippet" + (i + 1);
      Matcher topLevel = Pattern.compile("(?m)^public (?:final )?class (\\w+)").matcher(code);
      if (topLevel.find()) {
        sources.add(source(topLevel.group(1), IMPORTS + code));
      } else {
        sources.add(source(name, IMPORTS + "class " + name + " {\n" + GIVEN
            + "  void snippet() throws Exception {\n" + code + "\n  }\n}\n"));
      }
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    Path out = Files.createTempDirectory("readme-snippets");
    List<String> options = List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(),
        "-proc:none");
    boolean ok = javac.getTask(null, null, diagnostics, options, null, sources).call();
    List<String> errors = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.ERROR) {
        errors.add(d.getSource().getName() + ":" + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT));
      }
    }
    assertThat(errors).as("README snippets that do not compile (SnippetN is the N-th java block)").isEmpty();
    assertThat(ok).isTrue();
  }

  private static List<String> javaBlocks(String markdown) {
    List<String> blocks = new ArrayList<>();
    Matcher m = Pattern.compile("(?ms)^```java\\n(.*?)^```").matcher(markdown);
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  private static JavaFileObject source(String className, String code) {
    return new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return code;
      }
    };
  }
}
