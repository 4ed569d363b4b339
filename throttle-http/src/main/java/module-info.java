/**
 * Throttle's server side, framework-neutral (keys, rules, verdicts), and its Servlet filter
 * ({@code dev.throttle.http.servlet}; the Servlet API is provided by the container).
 */
module dev.throttle.http {
  requires transitive dev.throttle.core;
  requires static jakarta.servlet;
  requires org.slf4j;

  exports dev.throttle.http;
  exports dev.throttle.http.servlet;
}
