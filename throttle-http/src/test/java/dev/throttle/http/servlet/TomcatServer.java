package dev.throttle.http.servlet;

import jakarta.servlet.Filter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * A plain embedded Tomcat 10.1 (Servlet 6) on a free loopback port, with a filter declared as a web.xml declares it
 * (a filter definition with init parameters, mapped for REQUEST and ASYNC) in front of a servlet that answers
 * {@code ok} and counts how often the application ran.
 */
final class TomcatServer implements AutoCloseable {

  final Tomcat tomcat;
  final Connector connector;
  final Context context;
  final AtomicInteger served = new AtomicInteger();
  private final Path baseDir;

  private TomcatServer(Tomcat tomcat, Connector connector, Context context, Path baseDir) {
    this.tomcat = tomcat;
    this.connector = connector;
    this.context = context;
    this.baseDir = baseDir;
  }

  /** {@code filter} (configured by the container from {@code parameters}) in front of the application. */
  static TomcatServer start(Filter filter, Map<String, String> parameters) throws Exception {
    Path baseDir = Files.createTempDirectory("tomcat-test");
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);
    Context context = tomcat.addContext("", null);
    TomcatServer ts = new TomcatServer(tomcat, connector, context, baseDir);
    Tomcat.addServlet(context, "app", new OkServlet(ts.served)).setAsyncSupported(true);
    context.addServletMappingDecoded("/*", "app");
    FilterDef def = new FilterDef();
    def.setFilterName("throttle");
    def.setFilter(filter);
    def.setFilterClass(filter.getClass().getName());
    def.setAsyncSupported("true");
    parameters.forEach(def::addInitParameter);
    context.addFilterDef(def);
    FilterMap map = new FilterMap();
    map.setFilterName("throttle");
    map.addURLPattern("/*");
    map.setDispatcher("REQUEST");
    map.setDispatcher("ASYNC");
    context.addFilterMap(map);
    try {
      tomcat.start();
    } catch (LifecycleException e) {
      tomcat.destroy();
      throw e;
    }
    return ts;
  }

  int port() {
    return connector.getLocalPort();
  }

  /** Stops and destroys the server, as an application's shutdown does. */
  @Override
  public void close() throws Exception {
    try {
      tomcat.stop();
      tomcat.destroy();
    } finally {
      try (var files = Files.walk(baseDir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
