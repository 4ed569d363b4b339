package dev.throttle.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The public surface of a module, read from what was built: the packages its {@code module-info} exports to everyone,
 * and in them every public type (nested ones included). Each module's {@code PublicApiTest} compares it with the list
 * in its {@code src/test/resources/public-types.txt}, so a type made public (or a package exported) by accident fails
 * the build, and one meant to be public is added to the list in the same commit.
 */
public final class PublicTypes {

  private PublicTypes() {}

  /** The module descriptor built with {@code anyType}'s module (its {@code target/classes}). */
  public static ModuleDescriptor descriptor(Class<?> anyType) {
    Path classes = classesOf(anyType);
    Set<ModuleReference> found = ModuleFinder.of(classes).findAll();
    assertThat(found).as("a module-info.class in %s", classes).hasSize(1);
    return found.iterator().next().descriptor();
  }

  /** The public types of the packages exported to every module, by binary name, sorted. */
  public static Set<String> of(Class<?> anyType) {
    Path classes = classesOf(anyType);
    Set<String> exported = descriptor(anyType).exports().stream()
        .filter(e -> !e.isQualified())
        .map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toSet());
    Set<String> types = new TreeSet<>();
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String rel = classes.relativize(file).toString().replace(java.io.File.separatorChar, '/');
        if (!rel.endsWith(".class") || rel.endsWith("module-info.class") || rel.endsWith("package-info.class")) {
          continue;
        }
        String name = rel.substring(0, rel.length() - ".class".length()).replace('/', '.');
        int dot = name.lastIndexOf('.');
        if (!exported.contains(name.substring(0, dot))) {
          continue;
        }
        Class<?> type = Class.forName(name, false, anyType.getClassLoader());
        if (isVisible(type)) {
          types.add(name);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ClassNotFoundException e) {
      throw new AssertionError(e);
    }
    return types;
  }

  /**
   * Asserts that the public types of {@code anyType}'s module are exactly those listed in the test resource
   * {@code public-types.txt} (one binary name a line; {@code #} comments).
   */
  public static void assertListed(Class<?> anyType, Class<?> test) {
    List<String> listed;
    try (InputStream in = test.getResourceAsStream("/public-types.txt")) {
      assertThat(in).as("src/test/resources/public-types.txt").isNotNull();
      listed = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Set<String> actual = of(anyType);
    Set<String> added = new TreeSet<>(actual);
    listed.forEach(added::remove);
    Set<String> gone = new TreeSet<>(listed);
    gone.removeAll(actual);
    assertThat(added).as("public types not in public-types.txt: make them package-private or move them to an"
        + " .internal package, or, if they are meant to be API, add them to the list").isEmpty();
    assertThat(gone).as("types in public-types.txt that are no longer public API: remove them from the list")
        .isEmpty();
  }

  private static boolean isVisible(Class<?> type) {
    for (Class<?> t = type; t != null; t = t.getDeclaringClass()) {
      if (!Modifier.isPublic(t.getModifiers())) {
        return false;
      }
    }
    return !type.isAnonymousClass() && !type.isSynthetic();
  }

  private static Path classesOf(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }
}
