package dev.throttle.http.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An embedded Jetty 12 (Servlet 6) on a free loopback port, speaking HTTP/1.1 and HTTP/2 without TLS (h2c), with the
 * throttle filter in front of a servlet that answers {@code ok} and counts how often the application ran.
 */
final class TestServer implements AutoCloseable {

  final Server server;
  final ServerConnector connector;
  /** How many requests reached the application. */
  final AtomicInteger served = new AtomicInteger();

  private TestServer(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  /** The filter in front of the application, with Jetty's default header size limit (8 KiB). */
  static TestServer start(Filter filter) throws Exception {
    return start(new FilterHolder(filter), 8 * 1024);
  }

  /** The filter in front of the application, on a server of at most {@code maxThreads} threads. */
  static TestServer start(Filter filter, int maxThreads) throws Exception {
    return start(new FilterHolder(filter), 8 * 1024, maxThreads);
  }

  /** A filter holder (for init parameters) and a request header size limit. */
  static TestServer start(FilterHolder holder, int requestHeaderSize) throws Exception {
    return start(holder, requestHeaderSize, 200);
  }

  /** The filter in front of an application that does not support asynchronous processing. */
  static TestServer startWithoutAsyncSupport(Filter filter) throws Exception {
    return start(new FilterHolder(filter), 8 * 1024, 200, false);
  }

  private static TestServer start(FilterHolder holder, int requestHeaderSize, int maxThreads) throws Exception {
    return start(holder, requestHeaderSize, maxThreads, true);
  }

  private static TestServer start(FilterHolder holder, int requestHeaderSize, int maxThreads, boolean async)
      throws Exception {
    QueuedThreadPool threads = new QueuedThreadPool(maxThreads, Math.min(8, maxThreads));
    threads.setName("jetty-test");
    Server server = new Server(threads);
    HttpConfiguration config = new HttpConfiguration();
    config.setRequestHeaderSize(requestHeaderSize);
    config.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(config),
        new HTTP2CServerConnectionFactory(config));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    TestServer ts = new TestServer(server, connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder app = new ServletHolder(new OkServlet(ts.served));
    app.setAsyncSupported(async);
    context.addServlet(app, "/*");
    holder.setAsyncSupported(async);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    server.setHandler(context);
    try {
      server.start();
    } catch (Exception e) {
      server.stop();
      throw e;
    }
    return ts;
  }

  /** A filter built by the container from init parameters, as a web.xml would declare it. */
  static TestServer startWithInitParameters(Map<String, String> parameters) throws Exception {
    FilterHolder holder = new FilterHolder(ThrottleFilter.class);
    holder.setName("throttle");
    holder.setInitParameters(parameters);
    return start(holder, 8 * 1024);
  }

  int port() {
    return connector.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
