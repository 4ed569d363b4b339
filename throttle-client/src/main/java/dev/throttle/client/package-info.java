/**
 * The client side of a rate limit: {@link dev.throttle.client.ThrottledHttpClient} keeps a
 * {@link java.net.http.HttpClient} within a rate and a number in flight (the core's {@link dev.throttle.core.Throttle}),
 * retries what the server asks to retry ({@code 429}/{@code 503} with {@code Retry-After}, {@code RateLimit} or
 * {@code X-RateLimit-Reset}, else backoff with full jitter), and can adapt its rate to an unknown limit (AIMD).
 * {@link dev.throttle.client.BatchRunner} runs a list or a stream of jobs through it with exactly one result per
 * job, in input order, and {@link dev.throttle.client.Stats} summarises a run. {@link dev.throttle.client.MockApi}
 * is a small rate-limited HTTP API for demonstrations and tests.
 */
package dev.throttle.client;
