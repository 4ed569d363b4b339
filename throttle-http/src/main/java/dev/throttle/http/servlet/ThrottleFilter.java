package dev.throttle.http.servlet;

import dev.throttle.http.Admission;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.RateLimitHeaders;
import dev.throttle.http.Rule;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.TrustedProxies;
import dev.throttle.http.Verdict;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link HttpThrottle} as a Jakarta Servlet 6 filter, for any Servlet container and for Spring Boot.
 *
 * <ul>
 *   <li><b>Passed on:</b> the rate-limit headers are added to the response, then the chain continues.
 *   <li><b>Refused:</b> {@code 429} with {@code Retry-After}, the rate-limit headers and a problem body; the chain
 *       does not run. Missing or invalid keys get {@code 400} (see {@link Rule.MissingKey}).
 *   <li><b>Delayed:</b> the request is suspended ({@code startAsync}) and no container thread is held while it waits.
 *       When its turn comes it is {@linkplain AsyncContext#dispatch() dispatched} again, and reaches the application
 *       through the filters mapped for {@link DispatcherType#ASYNC} (this filter lets such dispatches through). So
 *       map the filters that must run for delayed requests for {@code ASYNC} too, or place this filter after them.
 *   <li><b>Given up:</b> the request's place is freed and its tokens returned, and it is answered {@code 503} with
 *       {@code Retry-After} (which a departed client never reads), when the container reports the exchange failed
 *       ({@link AsyncListener#onError}: the client left, or the server is stopping), when the async timeout runs out,
 *       and when the filter is destroyed or the throttle {@linkplain HttpThrottle#close() closed}.
 * </ul>
 *
 * <h2>What a container can see of a client that goes away</h2>
 *
 * Over HTTP/2 (and HTTP/3), a client that resets its stream or closes its connection is seen at once: the container
 * reports an error on the suspended request, and its tokens come back at once. Over HTTP/1.1 a container only learns
 * that the peer closed the connection when it next reads or writes it, and it reads nothing while a request without
 * a body is suspended: such a request keeps its place until its turn comes (at most the rule's maximum wait), then
 * its tokens are spent on a response nobody reads. No Servlet API can do better; the maximum wait bounds the loss.
 *
 * <h2>Shutting down</h2>
 *
 * Every waiting request is answered {@code 503} with {@code Retry-After} and its place given up, whichever comes
 * first: the throttle is {@linkplain HttpThrottle#close() closed} ({@link #destroy()} closes it), or the container
 * fails the suspended request as it stops (Jetty does so as it stops its connectors, before it destroys filters;
 * the answer still goes out). A request whose turn comes while the container is stopping, and whose dispatch the
 * container then never carries out (Tomcat unmaps the application, waits up to its {@code unloadDelay} for suspended
 * requests, then times them out), is answered {@code 503} too, never with the container's error page. The Servlet
 * API tells a filter of the shutdown only when it is destroyed, which Tomcat does last: to answer at once, before
 * any turn comes for nobody, close the throttle at the start of the shutdown, while connections are open (Spring: a
 * {@code SmartLifecycle}; embedded Jetty: a listener on the server's {@code lifeCycleStopping}; Tomcat: a
 * {@code LifecycleListener} on the context's {@code before_stop} event); docs/http.md shows them.
 *
 * <h2>Configuration</h2>
 *
 * Built in code with an {@link HttpThrottle}, or by the container from init parameters (see
 * {@link #ThrottleFilter()}). A configuration error fails {@link #init} with a {@link ServletException} naming the
 * rule, so that the application does not start with a limit it did not mean.
 */
public final class ThrottleFilter implements Filter {

  private static final Logger log = LoggerFactory.getLogger(ThrottleFilter.class);

  /** Extra time given to the async timeout beyond the longest maximum wait: room for a remote store to answer. */
  static final Duration TIMEOUT_MARGIN = Duration.ofSeconds(30);

  /** The request attribute holding a suspended request's {@link Exchange}, so that its dispatch is seen to arrive. */
  private static final String EXCHANGE = ThrottleFilter.class.getName() + ".exchange";

  private static final List<String> INIT_PARAMETERS = List.of("rules", "trusted-proxies", "forwarded-header",
      "legacy-headers", "rate-limit-headers", "max-keys");

  private volatile HttpThrottle throttle;
  private Duration asyncTimeout;
  private long asyncTimeoutMillis;
  private final AtomicBoolean warnedNoAsync = new AtomicBoolean();

  /**
   * A filter the container configures from its init parameters:
   *
   * <ul>
   *   <li>{@code rules} (required): rules one a line, as {@link Rule#parseAll} reads them; rules of the same path
   *       and methods apply together, as a {@linkplain HttpThrottle.Builder#ruleGroup group};
   *   <li>{@code trusted-proxies}: comma-separated addresses or blocks whose forwarding header is believed;
   *   <li>{@code forwarded-header}: {@code X-Forwarded-For} (default) or {@code Forwarded};
   *   <li>{@code rate-limit-headers}: {@code draft-10} (default), {@code draft-7}, {@code draft-6}, {@code legacy}
   *       or {@code none} (see {@link RateLimitHeaders});
   *   <li>{@code legacy-headers}: {@code true} (default) or {@code false}: {@code X-RateLimit-*} beside the draft
   *       fields;
   *   <li>{@code max-keys}: keys held in memory per rule (default {@value StoreFactory#DEFAULT_MAX_KEYS}).
   * </ul>
   *
   * The async timeout of suspended requests is the longest maximum wait of the rules plus 30 s.
   */
  public ThrottleFilter() {}

  /** A filter deciding through {@code throttle}; it closes the throttle when destroyed. */
  public ThrottleFilter(HttpThrottle throttle) {
    this.throttle = Objects.requireNonNull(throttle, "throttle");
  }

  /**
   * As {@link #ThrottleFilter(HttpThrottle)}, with the async timeout of suspended requests (by default the longest
   * maximum wait of the rules plus 30 s, room for a remote store to answer): a request still waiting when it runs out
   * is answered {@code 503} and its tokens returned.
   */
  public ThrottleFilter(HttpThrottle throttle, Duration asyncTimeout) {
    this(throttle);
    if (asyncTimeout.isNegative() || asyncTimeout.isZero()) {
      throw new IllegalArgumentException("the async timeout must be positive, got " + asyncTimeout);
    }
    this.asyncTimeout = asyncTimeout;
  }

  @Override
  public void init(FilterConfig config) throws ServletException {
    String name = config == null ? "throttle" : config.getFilterName();
    try {
      if (throttle == null) {
        throttle = fromInitParameters(config);
      }
    } catch (IllegalArgumentException e) {
      throw new ServletException("Throttle filter '" + name + "': " + e.getMessage(), e);
    }
    if (asyncTimeout == null) {
      Duration longest = Duration.ZERO;
      for (Rule r : throttle.rules()) {
        longest = r.maxWait().compareTo(longest) > 0 ? r.maxWait() : longest;
      }
      asyncTimeout = longest.plus(TIMEOUT_MARGIN);
    }
    asyncTimeoutMillis = Math.max(1, asyncTimeout.toMillis());
    log.info("Throttle filter '{}' started with {} rule(s): {}", name, throttle.rules().size(), throttle.rules());
  }

  private static HttpThrottle fromInitParameters(FilterConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("no throttle given and no init parameters to build one from");
    }
    for (String p : Collections.list(config.getInitParameterNames())) {
      if (!INIT_PARAMETERS.contains(p)) {
        throw new IllegalArgumentException("unknown init parameter '" + p + "' (known: " + INIT_PARAMETERS + ")");
      }
    }
    String rules = config.getInitParameter("rules");
    if (rules == null || rules.isBlank()) {
      throw new IllegalArgumentException("the init parameter 'rules' is missing (one rule a line, such as "
          + "'api: path=/api; limit=100/s')");
    }
    TrustedProxies proxies = TrustedProxies.parse(config.getInitParameter("trusted-proxies"));
    String header = config.getInitParameter("forwarded-header");
    if (header != null) {
      if (header.strip().equalsIgnoreCase("Forwarded")) {
        proxies = proxies.via(TrustedProxies.Header.FORWARDED);
      } else if (!header.strip().equalsIgnoreCase("X-Forwarded-For")) {
        throw new IllegalArgumentException("forwarded-header must be X-Forwarded-For or Forwarded, got '" + header
            + "'");
      }
    }
    HttpThrottle.Builder b = HttpThrottle.builder().trustedProxies(proxies).rules(rules);
    String legacy = config.getInitParameter("legacy-headers");
    if (legacy != null) {
      String l = legacy.strip().toLowerCase(Locale.ROOT);
      if (!l.equals("true") && !l.equals("false")) {
        throw new IllegalArgumentException("legacy-headers must be true or false, got '" + legacy + "'");
      }
      b.legacyHeaders(l.equals("true"));
    }
    String headers = config.getInitParameter("rate-limit-headers");
    if (headers != null) {
      b.rateLimitHeaders(RateLimitHeaders.parse(headers));
    }
    String maxKeys = config.getInitParameter("max-keys");
    if (maxKeys != null) {
      int n;
      try {
        n = Integer.parseInt(maxKeys.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("max-keys must be a whole number, got '" + maxKeys + "'");
      }
      if (n < 1) {
        throw new IllegalArgumentException("max-keys must be at least 1, got " + n);
      }
      b.stores(StoreFactory.inMemory(n));
    }
    return b.build();
  }

  /** The throttle this filter decides through (null before {@link #init} for a filter configured by parameters). */
  public HttpThrottle throttle() {
    return throttle;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    // Only the request's first dispatch is throttled: an ASYNC dispatch is this filter's own (a delayed request whose
    // turn came) or the application's, and FORWARD, INCLUDE and ERROR dispatches belong to a request already counted.
    if (!(req instanceof HttpServletRequest) || !(res instanceof HttpServletResponse)
        || req.getDispatcherType() != DispatcherType.REQUEST) {
      if (req.getDispatcherType() == DispatcherType.ASYNC && req.getAttribute(EXCHANGE) instanceof Exchange e) {
        req.removeAttribute(EXCHANGE);
        e.arrived = true; // the delayed request reached the chain again
      }
      chain.doFilter(req, res);
      return;
    }
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    Admission admission = throttle.admit(new ServletRequestView(request));
    CompletableFuture<Verdict> verdict = admission.verdict();
    if (verdict.isDone()) {
      carryOut(verdict.join(), request, response, chain);
      return;
    }
    if (!request.isAsyncSupported()) {
      carryOut(awaitHoldingThread(admission, verdict), request, response, chain);
      return;
    }
    AsyncContext async = request.startAsync(request, response);
    async.setTimeout(asyncTimeoutMillis);
    Exchange exchange = new Exchange(async, admission, verdict, response);
    request.setAttribute(EXCHANGE, exchange);
    async.addListener(exchange);
    verdict.thenAccept(exchange::onVerdict);
  }

  /** Without async support, waiting needs the thread: warn once, and wait. */
  private Verdict awaitHoldingThread(Admission admission, CompletableFuture<Verdict> verdict) throws IOException {
    if (warnedNoAsync.compareAndSet(false, true)) {
      log.warn("A delayed request is holding a container thread while it waits, because asynchronous processing is "
          + "not supported for it: mark this filter and the servlets it covers asyncSupported");
    }
    try {
      return verdict.get();
    } catch (InterruptedException e) {
      admission.cancel(Admission.Cancel.CLIENT_GONE);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for a turn", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a verdict never fails", e);
    }
  }

  private static void carryOut(Verdict v, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (v.proceeds()) {
      addHeaders(v, response);
      chain.doFilter(request, response);
    } else {
      write(v, response);
    }
  }

  private static void addHeaders(Verdict v, HttpServletResponse response) {
    for (Verdict.Header h : v.headers()) {
      response.addHeader(h.name(), h.value());
    }
  }

  /** Answers with the verdict's status, headers and body (not through sendError: no container error page). */
  private static void write(Verdict v, HttpServletResponse response) throws IOException {
    response.setStatus(v.status());
    addHeaders(v, response);
    if (v.contentType() != null) {
      byte[] body = v.body().getBytes(StandardCharsets.UTF_8);
      response.setContentType(v.contentType());
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }
    response.flushBuffer();
  }

  /** Closes the throttle: requests still waiting are answered 503 (if their connection is still open). Idempotent. */
  @Override
  public void destroy() {
    HttpThrottle t = throttle;
    if (t != null) {
      t.close();
    }
  }

  /**
   * One suspended request: carries out its verdict exactly once (dispatch, answer, or just complete), whichever of
   * the verdict and the container's events comes first.
   */
  private static final class Exchange implements AsyncListener {
    private final AsyncContext async;
    private final Admission admission;
    private final CompletableFuture<Verdict> verdict;
    private final HttpServletResponse response;
    private final AtomicBoolean finished = new AtomicBoolean();
    /** Whether the dispatch of a request passed on came back through the filter (so the application has it). */
    private volatile boolean arrived;
    private volatile boolean dispatched;

    Exchange(AsyncContext async, Admission admission, CompletableFuture<Verdict> verdict,
        HttpServletResponse response) {
      this.async = async;
      this.admission = admission;
      this.verdict = verdict;
      this.response = response;
    }

    /** The verdict came: from the limiter's scheduler, a store's thread, a cancellation or the closing thread. */
    void onVerdict(Verdict v) {
      try {
        carryOut(v);
      } catch (RuntimeException e) {
        // The container ended the exchange meanwhile (dispatch or start on a completed context): nothing to do.
        log.debug("Could not carry out {} on a suspended request: {}", v, e.toString());
      }
    }

    private void carryOut(Verdict v) {
      switch (v.outcome()) {
        // In the thread that gave up (the container's, or the one closing the throttle): answer before it returns.
        case SHUT_DOWN, TIMED_OUT, CLIENT_GONE -> answer(v);
        default -> {
          if (v.proceeds()) {
            proceed(v);
          } else {
            // A refusal from a remote store's thread: write on a container thread, never on the store's.
            try {
              async.start(() -> answer(v));
            } catch (IllegalStateException e) {
              answer(v); // the exchange is ending already
            }
          }
        }
      }
    }

    private void proceed(Verdict v) {
      if (finished.compareAndSet(false, true)) {
        addHeaders(v, response);
        dispatched = true;
        async.dispatch();
      }
    }

    private void answer(Verdict v) {
      if (finished.compareAndSet(false, true)) {
        send(v);
      }
    }

    private void send(Verdict v) {
      try {
        write(v, response);
      } catch (IOException | IllegalStateException e) {
        log.debug("Could not answer a throttled request with {}: {}", v.status(), e.toString());
      } finally {
        endQuietly();
      }
    }

    private void endQuietly() {
      try {
        async.complete();
      } catch (IllegalStateException e) {
        log.debug("The exchange had already ended: {}", e.toString());
      }
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      if (!undelivered(Verdict.Outcome.TIMED_OUT)) {
        giveUp(Admission.Cancel.TIMED_OUT);
      }
    }

    /**
     * The container reports the exchange failed: usually the client left (an HTTP/2 reset, a closed connection), but
     * also a server stopping. The place is given up, and a 503 sent in case anyone still listens.
     */
    @Override
    public void onError(AsyncEvent event) {
      if (!undelivered(Verdict.Outcome.CLIENT_GONE)) {
        giveUp(Admission.Cancel.CLIENT_GONE);
      }
    }

    /**
     * A request passed on whose dispatch never reached the application, and now times out or fails: a container
     * that is stopping takes no more dispatches (Tomcat, between unmapping the application and destroying its
     * filters, then times them out), and would answer with its own error page. The filter answers its 503 instead.
     * True if this was such a request (answered now, unless the response had begun).
     */
    private boolean undelivered(Verdict.Outcome reason) {
      if (!dispatched || arrived) {
        return false;
      }
      if (!response.isCommitted()) {
        send(verdict.join().undelivered(reason));
      }
      return true;
    }

    /**
     * Gives the place up, answering in this (container) thread: the container needs a dispatch or a completion before
     * a listener returns. If the verdict was decided at this very moment in another thread that has not carried it
     * out yet, it is carried out here (once).
     */
    private void giveUp(Admission.Cancel reason) {
      if (!admission.cancel(reason)) {
        Verdict v = verdict.join();
        if (v.proceeds()) {
          proceed(v);
        } else {
          answer(v);
        }
      }
    }

    @Override
    public void onComplete(AsyncEvent event) {
      finished.set(true); // ended by the container: nothing more to send
      admission.cancel(Admission.Cancel.CLIENT_GONE); // if still waiting, give the place up
    }

    @Override
    public void onStartAsync(AsyncEvent event) {}
  }
}
