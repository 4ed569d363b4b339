package dev.throttle.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a harness's measurement in a JVM of its own, so that heap and thread counts see nothing of the libraries
 * measured before. The child prints {@code result <name> <value>} lines ({@link #result}); the parent gets them as
 * a map. Anything else the child prints goes to the parent's standard error.
 */
final class Child {

  private Child() {}

  /** In the child: reports one figure to the parent. */
  static void result(String name, Object value) {
    System.out.println("result " + name + " " + value);
  }

  /** Runs {@code main} with {@code jvmArgs} and {@code args} in a new JVM on this classpath; its results. */
  static Map<String, String> run(Class<?> main, List<String> jvmArgs, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(ManagementFactory.getRuntimeMXBean().getClassPath());
    command.add(main.getName());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Map<String, String> results = new LinkedHashMap<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        String[] parts = line.split(" ", 3);
        if (parts.length == 3 && parts[0].equals("result")) {
          results.put(parts[1], parts[2]);
        } else {
          System.err.println(line);
        }
      }
    }
    int exit = process.waitFor();
    if (exit != 0) {
      throw new IllegalStateException(main.getSimpleName() + " " + String.join(" ", args) + " failed with exit code "
          + exit);
    }
    return results;
  }

  /** Heap in use after full collections, in bytes: collects until two readings agree within 64 KiB. */
  static long usedHeapAfterGc() throws InterruptedException {
    long previous = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      Thread.sleep(50); // lets reference processing and finalization of the collection finish
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (Math.abs(previous - used) < 64 * 1024) {
        return used;
      }
      previous = used;
    }
    return previous;
  }
}
