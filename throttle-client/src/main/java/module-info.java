/**
 * Throttle's HTTP client: a throttled {@code java.net.http.HttpClient}, retries, rate-limit header parsing, batches
 * and their stats. {@code Demo} and {@code MockApi} (the demo and its mock server) are exported for now, for the CLI.
 */
module dev.throttle.client {
  requires transitive dev.throttle.core;
  requires transitive java.net.http;
  requires jdk.httpserver;
  requires HdrHistogram;
  requires org.slf4j;

  exports dev.throttle.client;
}
