package dev.throttle.gateway;

import dev.throttle.http.Admission;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Verdict;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's request handler: asks the throttle, then carries out the verdict (pass the request on to the
 * upstream with the rate-limit fields added to its response, or answer it), on the request's own event loop.
 *
 * <p>While a request waits for its turn it is paused (its body, if any, stays in the socket) and no thread is held:
 * the verdict's future brings the work back to the event loop. A client that closes its connection meanwhile cancels
 * its admission, so its place is given up and its tokens return. For a request whose body has arrived (any request
 * without a body) the close is seen at once; for a large body still arriving, reading stops while it waits, so the
 * close is seen when its turn comes (at most the rule's max-wait).
 */
final class Proxy implements Handler<HttpServerRequest> {

  private static final Logger log = LoggerFactory.getLogger(Proxy.class);

  /**
   * Fields that belong to one connection and are never passed on (RFC 9110, 7.6.1), plus those handled here; looked
   * up without regard to case and without lower-casing each name of each request and answer (a copy per field).
   */
  private static final Set<String> HOP_BY_HOP = caseInsensitive(List.of("connection", "keep-alive",
      "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
      "host", "expect"));

  /** Also not passed on from the request: the gateway writes its own. */
  private static final Set<String> FORWARDED = caseInsensitive(List.of("x-forwarded-for", "x-forwarded-proto",
      "x-forwarded-host"));

  private static Set<String> caseInsensitive(java.util.Collection<String> names) {
    Set<String> set = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    set.addAll(names);
    return set;
  }

  private static final String PROBLEM = "application/problem+json";

  private final Supplier<HttpThrottle> throttle;
  private final Metrics metrics;
  private final HttpClient client;
  private final String upstreamHost;
  private final int upstreamPort;
  private final String upstreamBase;
  private final long upstreamTimeoutMillis;
  private final long maxBody;
  private final Context context;
  private final long headerTimeoutMillis;
  private final long idleTimeoutMillis;
  private final AccessLog accessLog; // null: none
  /** The open connections of this event loop (only its thread touches them). */
  private final Map<HttpConnection, Conn> connections = new HashMap<>();
  /** Upstream failures: an upstream down is one event, not a line per request. */
  private static final LimitedLog upstreamErrors = new LimitedLog(log, "1/s");
  /** Requests refused for their own faults: a client can send any number of them. */
  private static final LimitedLog clientErrors = new LimitedLog(log, "1/s burst 5");

  /** @param throttle the throttle in force, read per request (a reload replaces it) */
  Proxy(Supplier<HttpThrottle> throttle, Metrics metrics, HttpClient client, GatewayConfig config, Context context,
      AccessLog accessLog) {
    this.accessLog = accessLog;
    this.throttle = throttle;
    this.metrics = metrics;
    this.client = client;
    this.upstreamHost = config.upstream().getHost();
    this.upstreamPort = config.upstream().getPort() < 0 ? 80 : config.upstream().getPort();
    String base = config.upstream().getRawPath();
    this.upstreamBase = base == null || base.equals("/") ? "" : base.replaceAll("/+$", "");
    this.upstreamTimeoutMillis = Math.max(1, config.upstreamTimeout().toMillis());
    this.maxBody = config.maxBodyBytes();
    this.context = context;
    this.headerTimeoutMillis = Math.max(1, config.headerTimeout().toMillis());
    this.idleTimeoutMillis = Math.max(1, config.idleTimeout().toMillis());
  }

  /**
   * One client connection: the request it is serving (from its head to the end of its response), and the timer that
   * closes it when no next request head is complete in time: {@code header-timeout} from the connection's start,
   * {@code idle-timeout} from the end of each response (keep-alive). A slow client sending a head byte by byte is
   * closed as one that sends nothing.
   */
  private final class Conn {
    private final HttpConnection connection;
    private HttpServerRequest current;
    private long timer = -1;

    Conn(HttpConnection connection) {
      this.connection = connection;
    }

    void awaitHead(long millis, Metrics.ConnectionTimeout kind) {
      cancelTimer();
      timer = context.owner().setTimer(millis, id -> {
        timer = -1;
        metrics.connectionTimeout(kind);
        connection.close();
      });
    }

    void cancelTimer() {
      if (timer >= 0) {
        context.owner().cancelTimer(timer);
        timer = -1;
      }
    }
  }

  /** A new client connection: its head must arrive within the header timeout. */
  void connected(HttpConnection connection) {
    Conn c = new Conn(connection);
    connections.put(connection, c);
    connection.closeHandler(v -> {
      c.cancelTimer();
      connections.remove(connection);
    });
    // Shutting down: a connection serving no request (idle, or its head still arriving) closes at once.
    connection.shutdownHandler(v -> {
      if (c.current == null) {
        connection.close();
      }
    });
    c.awaitHead(headerTimeoutMillis, Metrics.ConnectionTimeout.HEADER);
  }

  /**
   * Its head has arrived (at {@code start}, nanoTime): the connection serves {@code request} until its response
   * ends, and then the access log gets its line.
   */
  private void begin(HttpServerRequest request, long start) {
    Conn c = connections.get(request.connection());
    if (c == null) {
      return;
    }
    c.cancelTimer();
    c.current = request;
    Instant arrival = accessLog == null ? null : Instant.now();
    request.response().endHandler(v -> {
      c.current = null;
      c.awaitHead(idleTimeoutMillis, Metrics.ConnectionTimeout.IDLE);
      if (arrival != null) {
        HttpServerResponse r = request.response();
        accessLog.write(arrival, request.connection().remoteAddress().hostAddress(),
            request.method() == null ? "-" : request.method().name(), request.uri() == null ? "-" : request.uri(),
            versionText(request), r.getStatusCode(), r.bytesWritten(), System.nanoTime() - start);
      }
    });
  }

  private static String versionText(HttpServerRequest request) {
    return request.version() == null ? "-" : switch (request.version()) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_1_1 -> "HTTP/1.1";
      case HTTP_2 -> "HTTP/2.0";
    };
  }

  @Override
  public void handle(HttpServerRequest request) {
    long start = System.nanoTime();
    begin(request, start);
    Framing.Refusal refusal = Framing.check(request.version(), request.uri(), request.headers());
    if (refusal != null) {
      refuse(request, refusal);
      return;
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && Long.parseLong(length.strip()) > maxBody) {
      refuseTooLarge(request);
      return;
    }
    request.pause(); // the body stays unread until the verdict: passed on, or discarded
    request.exceptionHandler(e -> bodyFailed(request, e));
    VertxRequestView view;
    try {
      view = new VertxRequestView(request);
    } catch (IllegalArgumentException e) {
      refuse(request, new Framing.Refusal(400, Metrics.RequestError.BAD_REQUEST,
          "The request path is not a valid URI path."));
      return;
    }
    Admission admission = throttle.get().admit(view);
    CompletableFuture<Verdict> verdict = admission.verdict();
    if (verdict.isDone()) {
      carryOut(request, verdict.join(), start);
      return;
    }
    request.response().closeHandler(v -> admission.cancel(Admission.Cancel.CLIENT_GONE));
    verdict.thenAccept(v -> context.runOnContext(x -> carryOut(request, v, start)));
  }

  private void carryOut(HttpServerRequest request, Verdict v, long start) {
    metrics.decided(System.nanoTime() - start - v.waited().toNanos());
    if (v.proceeds()) {
      forward(request, v.headers());
    } else if (v.outcome() != Verdict.Outcome.CLIENT_GONE) { // nobody would read an answer to a departed client
      answer(request, v);
    }
  }

  /** The throttle's answer (429, 503, 400, 500) with its fields and problem body; the unread body is discarded. */
  private static void answer(HttpServerRequest request, Verdict v) {
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(v.status());
    for (Verdict.Header h : v.headers()) {
      response.headers().add(h.name(), h.value());
    }
    discardBody(request);
    if (v.contentType() != null) {
      response.putHeader(HttpHeaders.CONTENT_TYPE, v.contentType());
      response.end(v.body());
    } else {
      response.end();
    }
  }

  /** Reads and drops what is left of the request body, so that the connection can serve the next request. */
  private static void discardBody(HttpServerRequest request) {
    if (!request.isEnded()) {
      request.handler(buffer -> {});
      request.resume();
    }
  }

  private void refuseTooLarge(HttpServerRequest request) {
    refuse(request, new Framing.Refusal(413, Metrics.RequestError.TOO_LARGE, "The request body exceeds the "
        + maxBody + " bytes this gateway passes on."));
  }

  /**
   * A request body that cannot be read (a malformed chunk; Netty has failed the request, and Vert.x closes the
   * connection after this): answered 400 first, if nothing of the answer has been sent. A client that went away is
   * no error of the request. Without this handler, Vert.x would log each at ERROR.
   */
  private void bodyFailed(HttpServerRequest request, Throwable e) {
    HttpServerResponse response = request.response();
    if (e instanceof java.io.IOException || e instanceof io.vertx.core.http.HttpClosedException
        || response.headWritten() || response.ended() || response.closed()) {
      return;
    }
    refuse(request, new Framing.Refusal(400, Metrics.RequestError.BAD_REQUEST, "The request body is not valid"
        + " HTTP/1.1 chunked encoding."));
    // Vert.x flushes at the end of a read, but closes this connection before that: flush the answer now (internal
    // API of Vert.x 5.0, the only way to get the answer out first).
    if (request.connection() instanceof io.vertx.core.net.impl.VertxConnection c) {
      c.flush();
    }
  }

  /**
   * A request Vert.x could not parse (its {@code invalidRequestHandler}): a field or request line too long, or not
   * HTTP/1.1 syntax. Answered as the gateway's other refusals, then the connection closes.
   */
  void invalid(HttpServerRequest request) {
    begin(request, System.nanoTime()); // for the access log: a request refused as invalid is answered too
    Throwable cause = request.decoderResult().cause();
    Framing.Refusal r;
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      r = new Framing.Refusal(414, Metrics.RequestError.URI_TOO_LONG, "The request line is too long.");
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      r = new Framing.Refusal(431, Metrics.RequestError.HEADER_TOO_LARGE, "The request's fields are too large.");
    } else {
      r = new Framing.Refusal(400, Metrics.RequestError.BAD_REQUEST, "The request is not valid HTTP/1.1.");
    }
    refuse(request, r);
  }

  /** The gateway's own answer to a request it cannot pass on because of the request; the connection closes. */
  private void refuse(HttpServerRequest request, Framing.Refusal r) {
    metrics.requestError(r.kind());
    clientErrors.warn("request refused status={} kind={} peer={} detail={}", r.status(), r.kind().label(),
        request.remoteAddress(), r.detail());
    answerAndClose(request, r.status(), TITLES.get(r.status()), r.detail());
  }

  private static final Map<Integer, String> TITLES = Map.of(400, "Bad Request", 413, "Content Too Large",
      414, "URI Too Long", 431, "Request Header Fields Too Large", 501, "Not Implemented");

  private static void answerAndClose(HttpServerRequest request, int status, String title, String detail) {
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed() || response.headWritten()) {
      response.reset();
      return;
    }
    String body = "{\"type\":\"about:blank\",\"title\":\"" + title + "\",\"status\":" + status + ",\"detail\":\""
        + detail + "\"}";
    response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, PROBLEM)
        .putHeader(HttpHeaders.CONNECTION, "close");
    response.end(body).onComplete(ar -> request.connection().close());
  }

  // ---- passing on ----

  private void forward(HttpServerRequest request, List<Verdict.Header> rateLimitFields) {
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      return; // the client went away as its turn came, or its body was refused meanwhile
    }
    metrics.inFlight().incrementAndGet();
    RequestOptions options = new RequestOptions()
        .setMethod(request.method())
        .setHost(upstreamHost)
        .setPort(upstreamPort)
        .setURI(upstreamBase + request.uri())
        .setIdleTimeout(upstreamTimeoutMillis)
        .setHeaders(forwardedHeaders(request));
    Exchange exchange = new Exchange(request, rateLimitFields);
    client.request(options).onComplete(ar -> {
      if (ar.failed()) {
        exchange.failed(ar.cause());
      } else {
        exchange.send(ar.result());
      }
    });
  }

  /** The request's fields less the hop-by-hop ones, with {@code X-Forwarded-For}, {@code -Proto}, {@code -Host}. */
  private static MultiMap forwardedHeaders(HttpServerRequest request) {
    MultiMap in = request.headers();
    Set<String> dropped = connectionTokens(in);
    MultiMap out = HttpHeaders.headers();
    for (Map.Entry<String, String> e : in) {
      String name = e.getKey();
      if (!HOP_BY_HOP.contains(name) && (dropped == null || !dropped.contains(name)) && !FORWARDED.contains(name)) {
        out.add(name, e.getValue());
      }
    }
    String peer = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    String chain = in.contains("X-Forwarded-For") ? String.join(", ", in.getAll("X-Forwarded-For")) : "";
    if (peer != null) {
      chain = chain.isEmpty() ? peer : chain + ", " + peer;
    }
    if (!chain.isEmpty()) {
      out.set("X-Forwarded-For", chain);
    }
    out.set("X-Forwarded-Proto", request.scheme() == null ? "http" : request.scheme());
    String host = request.getHeader(HttpHeaders.HOST);
    if (host != null) {
      out.set("X-Forwarded-Host", host);
    }
    return out;
  }

  /** The field names a {@code Connection} header lists (they are hop-by-hop too), or null when there is none. */
  private static Set<String> connectionTokens(MultiMap headers) {
    if (!headers.contains(HttpHeaders.CONNECTION)) {
      return null; // most requests and answers (HTTP/1.1 keeps alive without it): no list, no set
    }
    Set<String> tokens = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    for (String v : headers.getAll(HttpHeaders.CONNECTION)) {
      for (String t : v.split(",")) {
        tokens.add(t.strip());
      }
    }
    return tokens;
  }

  /** One request passed on: its body streamed up, the answer streamed down, each failure answered once. */
  private final class Exchange {
    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final List<Verdict.Header> rateLimitFields;
    private HttpClientRequest upstream;
    private long bodyBytes;
    private boolean done;

    Exchange(HttpServerRequest request, List<Verdict.Header> rateLimitFields) {
      this.request = request;
      this.response = request.response();
      this.rateLimitFields = rateLimitFields;
    }

    void send(HttpClientRequest up) {
      this.upstream = up;
      // Failures are handled through up.response(); without this, each reset of ours is logged at ERROR.
      up.exceptionHandler(e -> {});
      if (response.closed() || response.ended()) {
        up.reset();
        finish();
        return;
      }
      response.closeHandler(v -> {
        if (!done) {
          finish(); // first: the failure the reset causes upstream is the client's doing, not an upstream error
          up.reset(); // the client left: stop the upstream exchange too
        }
      });
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      boolean bodiless = false;
      if (length != null) {
        String declared = length.strip();
        up.putHeader(HttpHeaders.CONTENT_LENGTH, declared);
        bodiless = declared.equals("0");
      } else if (isChunked(request)) {
        up.setChunked(true);
      } else {
        bodiless = true; // neither a length nor chunks: no body (RFC 9112, 6.3)
      }
      up.response().onComplete(ar -> {
        if (ar.failed()) {
          failed(ar.cause());
        } else {
          relay(ar.result());
        }
      });
      if (bodiless) {
        up.end(); // sent at once, head only; the request's end still has to be read before the next one
        request.endHandler(null);
      } else {
        request.handler(this::bodyChunk);
        request.endHandler(v -> up.end());
      }
      request.exceptionHandler(e -> {
        if (!done) {
          finish();
          up.reset();
        }
        bodyFailed(request, e);
      });
      request.resume();
    }

    private void bodyChunk(Buffer chunk) {
      bodyBytes += chunk.length();
      if (bodyBytes > maxBody) { // a chunked body past the limit (a declared length was checked on arrival)
        request.handler(null);
        finish(); // first: the upstream's failure that the reset causes is not an upstream error
        upstream.reset();
        refuseTooLarge(request);
        return;
      }
      upstream.write(chunk);
      if (upstream.writeQueueFull()) {
        request.pause();
        upstream.drainHandler(v -> request.resume());
      }
    }

    private void relay(HttpClientResponse answer) {
      if (done) {
        return;
      }
      response.setStatusCode(answer.statusCode());
      response.setStatusMessage(answer.statusMessage());
      MultiMap headers = answer.headers();
      Set<String> dropped = connectionTokens(headers);
      MultiMap out = response.headers();
      for (Map.Entry<String, String> e : headers) {
        String name = e.getKey();
        if (!HOP_BY_HOP.contains(name) && (dropped == null || !dropped.contains(name))) {
          out.add(name, e.getValue());
        }
      }
      for (Verdict.Header h : rateLimitFields) {
        response.headers().add(h.name(), h.value());
      }
      String length = headers.get(HttpHeaders.CONTENT_LENGTH);
      if (length == null && request.method() != HttpMethod.HEAD
          && answer.statusCode() != 204 && answer.statusCode() != 304) {
        response.setChunked(true);
      }
      if (length != null && length.length() <= 5) {
        // A small answer (under 100 KB): read whole, then sent with its head in one write instead of a pipe's
        // several.
        answer.body().onComplete(ar -> {
          if (ar.failed()) {
            relayFailed(ar.cause());
          } else {
            response.end(ar.result());
          }
          finish();
        });
        return;
      }
      answer.pipeTo(response).onComplete(ar -> {
        if (ar.failed()) {
          relayFailed(ar.cause());
        }
        finish();
      });
    }

    private void relayFailed(Throwable cause) {
      if (!done) {
        upstreamError(cause, /* answering= */ true);
        response.reset();
      }
    }

    /** The upstream could not be reached, timed out or broke: 502/504 if nothing was sent yet, else a reset. */
    void failed(Throwable cause) {
      if (done) {
        return;
      }
      boolean timeout = upstreamError(cause, response.headWritten());
      finish();
      if (response.closed()) {
        return;
      }
      if (response.headWritten()) {
        response.reset();
      } else if (timeout) {
        answerAndClose(request, 504, "Gateway Timeout", "The upstream server did not answer in time.");
      } else {
        answerAndClose(request, 502, "Bad Gateway", "The upstream server could not be reached or broke the"
            + " exchange.");
      }
    }

    private boolean upstreamError(Throwable cause, boolean answering) {
      boolean timeout = cause instanceof TimeoutException || cause instanceof ConnectTimeoutException;
      boolean connect = !answering && upstream == null;
      Metrics.UpstreamError kind = timeout ? Metrics.UpstreamError.TIMEOUT
          : connect ? Metrics.UpstreamError.CONNECT : Metrics.UpstreamError.RESET;
      metrics.upstreamError(kind);
      upstreamErrors.warn("upstream error kind={} method={} uri={} cause={}", kind.name().toLowerCase(Locale.ROOT),
          request.method(), request.uri(), cause.toString());
      return timeout;
    }

    private void finish() {
      if (!done) {
        done = true;
        metrics.inFlight().decrementAndGet();
      }
    }
  }

  /** Chunked: {@link Framing} let through no other Transfer-Encoding. */
  private static boolean isChunked(HttpServerRequest request) {
    return request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
  }
}
