package dev.throttle.client;

import dev.throttle.core.Clock;
import dev.throttle.core.Limit;
import dev.throttle.core.ConcurrencyLimiter;
import dev.throttle.core.ConcurrencyLimiter.Permit;
import dev.throttle.core.RateLimiter;
import dev.throttle.core.Scheduler;
import dev.throttle.core.Throttle;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ThrottledHttpClient}.
 *
 * <h2>How slots meet calls</h2>
 *
 * Slots are not taken <em>for</em> a call: each call that becomes ready to send asks the throttle for one slot
 * (permit, then rate), and whichever slot comes first goes to the call at the head of the queues (retries, then new
 * calls). So a retry does not wait behind the slots already requested by calls sent after it, and cancelling a
 * queued call only has to give back one request for a slot, any one. The invariant that keeps every call moving:
 * requests for a slot (pending in the throttle, or scheduled for the end of a pause) are never fewer than the calls
 * queued; a slot that finds no call is released at once.
 *
 * <h2>Threads</h2>
 *
 * Everything here runs on the client's executor (daemon threads), never on the core's scheduler thread, which only
 * completes futures: its wake-ups must stay short, and a send may block briefly (name resolution).
 */
final class DefaultThrottledHttpClient implements ThrottledHttpClient {

  private static final Logger log = LoggerFactory.getLogger(ThrottledHttpClient.class);
  private static final AtomicInteger CLIENTS = new AtomicInteger();

  private enum State {
    QUEUED, // waiting for a slot
    WAITING, // waiting to retry
    STARTING, // holding a slot, waiting for the pacer
    IN_FLIGHT,
    DONE
  }

  /** How fast a client that learns its rate may go before it knows: no limit of its own, the pacer decides. */
  private static final Limit UNLIMITED = Limit.parse("1000000/s");
  /** Where a client that learns its rate and hears nothing from the server starts its slow start. */
  static final double SLOW_START_RATE = 1.0;

  private final Limit limit; // null: learned
  private final Duration jitterMargin;
  private final ConcurrencyLimiter permits;
  private volatile Throttle throttle; // on the limit with the jitter margin, in thousandths of a request
  private volatile long cost;
  private volatile Pacer pacer; // null until the server shows it takes no burst, or adaptive, or learning
  private final boolean aimdAsked; // --adaptive
  private volatile boolean adaptive; // AIMD: asked for, or learning a rate the server does not publish
  private volatile double configuredRate; // the rate kept: configured, or published (NaN while learning)
  private volatile Limit learnedLimit; // --rate auto: the server's published policy, once known
  private final RetryPolicy policy;
  private final Clock clock;
  private final Scheduler scheduler;
  private final java.time.Clock wallClock;
  private final RandomGenerator random; // null: ThreadLocalRandom
  private final ExecutorService pool;
  private final Executor executor; // the pool, dropping tasks after close
  private final HttpClient http;
  private final boolean ownsHttp;

  private final Object lock = new Object();
  private final ArrayDeque<CallImpl<?>> retryQueue = new ArrayDeque<>();
  private final ArrayDeque<CallImpl<?>> newQueue = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<Permit>> slotRequests = new ArrayDeque<>();
  private final Set<DelayedSlot> delayedSlots = new HashSet<>();
  private final Set<CallImpl<?>> active = new LinkedHashSet<>();
  private boolean closed;
  private boolean paused;
  private long pausedUntil;

  // The probe: the first call goes alone; the others ask for their slots once its response has told what the
  // server takes (its burst, its rate), and the client's bucket starts then (see observe).
  private enum Probe { NONE, SENT, DONE }

  private Probe probe = Probe.NONE;
  private int deferredSlots;

  // The pair: when the probe's answer says nothing of a burst (no quota fields: nginx limit_req, most servers), the
  // client starts paced, as if the server took none, and sends the next two new calls together, one interval after
  // the probe. If the server takes both, it takes bursts and the pacing ends (the client's own bucket remains); if
  // it refuses one, it is strict, the pacing stays, and the pair cost one 429 instead of the first burst's many.
  static final int PAIR = 2;
  private Pacer pairPacer; // the pacer the pair may end, or null
  private int pairToStart;
  private int pairToAnswer;
  private long pairDue;
  private boolean pairDueFixed; // once the first of the pair is at dispatch: no sooner than a paced send
  private boolean pairRefused;

  // The shared view of the server, from the quota fields of every response.
  private static final long NO_WINDOW = Long.MIN_VALUE;
  private String fieldsDialect;
  private String rateFromFields; // the policy the rate was learned from, or null
  private Long serverBurst;
  private long quota; // q of the policy
  private long windowNanos; // w of the policy
  private boolean windowMode; // the server gave a full quota at once: sends are counted per window
  private long windowStart = NO_WINDOW; // the first send of the current window
  private long windowEnd;
  // Sends left in the current window: windowCap - windowSends. The cap is the quota, or less when the latest answer
  // (the one sent last) shows that others took some: its r, plus the sends before it that r already counts.
  private long windowCap;
  private long windowSends; // sends in the current window
  private long windowCapSeq; // the place of the send whose answer set the cap
  private long lastDispatch = NO_WINDOW;
  private CallImpl<?> lastDispatched; // the call of the last send
  private long lastDispatchedRtt = -1; // its round trip, once answered
  private final Rtts rtts = new Rtts();
  private int sentInFlight; // sent and not yet answered
  private long refusedEarly;
  private long refusedSpent;

  DefaultThrottledHttpClient(ThrottledHttpClient.Builder b) {
    this.clock = b.clock;
    this.scheduler = b.scheduler;
    this.wallClock = b.wallClock;
    this.random = b.random;
    this.policy = b.retryPolicy;
    this.limit = b.limit;
    this.jitterMargin = b.jitterMargin;
    this.permits = ConcurrencyLimiter.of(b.maxInFlight);
    this.aimdAsked = b.adaptive;
    this.adaptive = b.adaptive || b.limit == null;
    this.configuredRate = b.limit == null ? Double.NaN : Pacer.perSecond(b.limit);
    if (b.shared != null) {
      // A shared limiter is used as it is: no bucket of this client's own to restart after a probe.
      this.throttle = Throttle.of(b.shared, permits);
      this.cost = 1;
      this.probe = Probe.DONE;
    } else {
      this.throttle = throttleFor(b.limit == null ? UNLIMITED : b.limit, Long.MAX_VALUE);
    }
    this.pacer = adaptive ? new Pacer(configuredRate, true, SLOW_START_RATE, clock, scheduler) : null;
    int id = CLIENTS.incrementAndGet();
    AtomicInteger threads = new AtomicInteger();
    this.pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "throttle-client-" + id + "-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.executor = task -> {
      try {
        pool.execute(task);
      } catch (RejectedExecutionException closedAlready) {
        // After close every call has ended; a late completion has nothing left to do.
      }
    };
    if (b.httpClient != null) {
      this.http = b.httpClient;
      this.ownsHttp = false;
    } else {
      HttpClient.Builder hb = HttpClient.newBuilder()
          .executor(pool)
          .followRedirects(HttpClient.Redirect.NORMAL)
          .connectTimeout(b.connectTimeout);
      if (b.version != null) {
        hb.version(b.version);
      }
      this.http = hb.build();
      this.ownsHttp = true;
    }
  }

  @Override
  public <T> Call<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(handler, "handler");
    CallImpl<T> call = new CallImpl<>(request, handler);
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the client is closed: " + request.method() + " " + request.uri()
            + " was not sent");
      }
      active.add(call);
      newQueue.addLast(call);
    }
    requestSlot();
    return call;
  }

  @Override
  public Optional<Limit> limit() {
    return Optional.ofNullable(limit);
  }

  @Override
  public int maxInFlight() {
    return permits.maxInFlight();
  }

  @Override
  public int inFlight() {
    return permits.inFlight();
  }

  @Override
  public double currentRate() {
    Pacer p = pacer;
    return p == null ? configuredRate : p.rate();
  }

  @Override
  public Learned learned() {
    Pacer p = pacer;
    synchronized (lock) {
      String source;
      if (rateFromFields != null) {
        source = rateFromFields;
      } else if (limit != null && !adaptive) {
        source = "configured";
      } else if (p != null && p.earlyRefusals() > 0) {
        source = "429s (adaptive)";
      } else {
        source = limit == null ? "slow start (no 429 yet)" : "configured (adaptive, no 429 yet)";
      }
      boolean spacing = p != null && (!adaptive || rateFromFields != null || p.earlyRefusals() > 0);
      return new Learned(p == null ? configuredRate : p.rate(), source, serverBurst, windowMode, spacing,
          spacing ? p.margin() : 0, fieldsDialect, refusedEarly, refusedSpent);
    }
  }

  /** The core's throttle on {@code l}, its burst lowered by the jitter margin and capped at {@code burstCap}. */
  private Throttle throttleFor(Limit l, long burstCap) {
    Limit capped = l;
    if (burstCap < Long.MAX_VALUE) {
      Limit.Builder cb = Limit.builder();
      for (dev.throttle.core.Bandwidth bw : l.bandwidths()) {
        cb.rate(bw.amount(), bw.period()).burst(Math.max(1, Math.min(bw.burst(), burstCap)));
        if (bw.isIntervalRefill()) {
          cb.refillEvery(bw.refillInterval());
        }
      }
      capped = cb.build();
    }
    JitterMargin margin = JitterMargin.of(capped, jitterMargin);
    this.cost = margin.cost();
    RateLimiter rate = RateLimiter.builder(margin.limit()).clock(clock).scheduler(scheduler).build();
    return Throttle.of(rate, permits);
  }

  @Override
  public int activeCalls() {
    synchronized (lock) {
      return active.size();
    }
  }

  // ---- slots ----

  private void requestSlot() {
    synchronized (lock) {
      if (probe == Probe.SENT) {
        deferredSlots++; // asked for when the first response has told what the server takes
        return;
      }
      if (probe == Probe.NONE) {
        probe = Probe.SENT;
      }
      long hold = holdNanos(clock.nanoTime());
      if (hold > 0) {
        requestSlotLater(hold); // a slot taken now would only be held back at dispatch, its rate token wasted
        return;
      }
    }
    CompletableFuture<Permit> slot = throttle.acquireAsync(cost);
    synchronized (lock) {
      if (!closed) {
        slotRequests.addLast(slot);
        slot.whenCompleteAsync((permit, error) -> onSlot(slot, permit, error), executor);
        return;
      }
    }
    discard(slot);
  }

  /**
   * How long a new request for a slot should wait before it asks the throttle: until the end of a pause. (A spent
   * window holds calls at dispatch instead, with their slots: at most the number in flight wait for its end, and
   * they go as soon as it comes.) Called with the lock held.
   */
  private long holdNanos(long now) {
    return paused && now - pausedUntil < 0 ? pausedUntil - now : 0;
  }

  /** One more request for a slot, at the end of a pause. Called with the lock held. */
  private void requestSlotLater(long delayNanos) {
    DelayedSlot d = new DelayedSlot();
    delayedSlots.add(d);
    d.handle = scheduler.schedule(() -> executor.execute(() -> {
      synchronized (lock) {
        if (!delayedSlots.remove(d)) {
          return; // given back
        }
      }
      requestSlot();
    }), delayNanos);
  }

  /** Gives back one request for a slot, because a queued call left. Called with the lock held. */
  private CompletableFuture<Permit> dropOneSlotRequest() {
    if (deferredSlots > 0) {
      deferredSlots--;
      return null;
    }
    if (!delayedSlots.isEmpty()) {
      DelayedSlot d = delayedSlots.iterator().next();
      delayedSlots.remove(d);
      d.handle.cancel();
      return null;
    }
    return slotRequests.pollLast(); // the newest: the older ones keep their places
  }

  private static void discard(CompletableFuture<Permit> slot) {
    if (slot != null && !slot.cancel(false) && !slot.isCompletedExceptionally()) {
      slot.join().close(); // it came at the same moment: give it back
    }
  }

  private void onSlot(CompletableFuture<Permit> slot, Permit permit, Throwable error) {
    CallImpl<?> call;
    synchronized (lock) {
      slotRequests.remove(slot);
      if (error != null) {
        if (!(error instanceof CancellationException) && !closed) {
          // Not expected from the core; keep the invariant rather than strand a call.
          log.error("waiting for a slot failed; asking again", error);
          executor.execute(this::requestSlot);
        }
        return;
      }
      if (closed) {
        call = null;
      } else {
        call = retryQueue.isEmpty() ? newQueue.pollFirst() : retryQueue.pollFirst();
        if (call != null) {
          call.state = State.STARTING;
        }
      }
    }
    if (call == null) {
      permit.close();
      return;
    }
    start(call, permit);
  }

  private <T> void start(CallImpl<T> call, Permit permit) {
    Pacer p = pacer;
    synchronized (lock) {
      if (pairToStart > 0 && !call.sent && p != null && p == pairPacer) {
        pairToStart--;
        call.pair = true; // goes with the other one of the pair, not paced
        p = null;
      }
    }
    if (p == null) {
      dispatch(call, permit);
      return;
    }
    CompletableFuture<Void> pace = p.acquire();
    call.stage = pace;
    pace.whenCompleteAsync((ignored, error) -> {
      if (error != null) {
        permit.close(); // the call was cancelled while waiting
      } else {
        dispatch(call, permit);
      }
    }, executor);
    if (call.isDone()) {
      pace.cancel(false);
    }
  }

  private <T> void dispatch(CallImpl<T> call, Permit permit) {
    synchronized (lock) {
      if (call.state == State.DONE) {
        permit.close();
        return;
      }
      long now = clock.nanoTime();
      if (paused && now - pausedUntil < 0) {
        // The server asked everyone to wait: back to the head of the line, a slot later.
        call.state = State.QUEUED;
        retryQueue.addFirst(call);
        requestSlotLater(pausedUntil - now);
        permit.close();
        return;
      }
      if (windowMode && (windowStart == NO_WINDOW || now - windowEnd >= 0)) { // this send opens a window
        windowStart = now;
        windowEnd = now + windowNanos + jitterMargin.toNanos();
        windowCap = quota;
        windowSends = 0;
        windowCapSeq = 0;
      }
      // The window's quota is spent: no send until it resets. Or paced, and the previous send went out late (or
      // this is the pair, before its time). The call keeps its slot and goes when it is due.
      long due = windowMode && windowSends >= windowCap ? windowEnd : dueNanos(call, now);
      if (due - now > 0) {
        scheduler.schedule(() -> executor.execute(() -> dispatch(call, permit)), due - now);
        return;
      }
      if (windowMode) {
        call.windowSeq = ++windowSends;
      }
      lastDispatched = call;
      lastDispatchedRtt = -1;
      call.gapBefore = lastDispatch == NO_WINDOW ? Long.MAX_VALUE : now - lastDispatch;
      lastDispatch = now;
      sentInFlight++;
      if (log.isTraceEnabled()) {
        log.trace("{} {}: attempt {} sent at {} us", call.request.method(), call.request.uri(), call.attempts + 1,
            now / 1000);
      }
      call.state = State.IN_FLIGHT;
      call.attempts++;
      call.lastSent = now;
      if (!call.sent) {
        call.sent = true;
        call.firstSent = now;
      }
    }
    HeadersTime<T> headers = new HeadersTime<>(call.handler, call.lastSent);
    CompletableFuture<HttpResponse<T>> exchange;
    try {
      exchange = http.sendAsync(call.request, headers);
    } catch (RuntimeException e) {
      exchange = CompletableFuture.failedFuture(e);
    }
    call.stage = exchange;
    bounded(exchange, call.request).whenCompleteAsync((response, error) -> {
      try {
        onResponse(call, permit, headers.rtt, response, error);
      } catch (RuntimeException | Error bug) {
        log.error("{} {}: handling the response failed", call.request.method(), call.request.uri(), bug);
        finish(call, Outcome.Status.FAILED, null, "internal error: " + bug);
      }
    }, executor);
    if (call.isDone()) {
      exchange.cancel(true);
    }
  }

  /**
   * When a call holding its slot may go: the pair at its time; a paced call no sooner than the spacing after the
   * previous actual send. The pacer spaces its grants, but a grant can reach the wire late (a busy executor), and
   * the send after it would then follow it closer than a strict server allows. Called with the lock held.
   */
  private long dueNanos(CallImpl<?> call, long now) {
    Pacer p = pacer;
    if (call.pair) {
      if (!pairDueFixed) { // both go together, one interval after whatever went last (a call the pacer let through)
        pairDueFixed = true;
        pairDue = Math.max(pairDue, p == null || lastDispatch == NO_WINDOW ? now : pacedDue(p, now));
      }
      return pairDue;
    }
    if (p == null || lastDispatch == NO_WINDOW) {
      return now;
    }
    return pacedDue(p, now);
  }

  private long pacedDue(Pacer p, long now) {
    long due = lastDispatch + p.spacingNanos();
    long late = lastDispatchedRtt < 0 ? 0 : lastDispatchedRtt - rtts.shortest();
    if (late > 0) {
      // The previous send came back later than most: it likely reached the server late by as much, and a strict
      // server counts from its arrival. Keep the interval from there (the margin covers what is left).
      due = Math.max(due, lastDispatch + p.intervalNanos() + late);
    }
    return due - now > 0 ? due : now;
  }

  /**
   * The exchange, failed with a {@link HttpTimeoutException} (and aborted) when the request's timeout passes before
   * it ends, body included: the {@link HttpClient}'s own timeout stops at the response headers, so a body trickled
   * a byte a second would otherwise hold the call for as long as the server likes.
   */
  private <T> CompletableFuture<HttpResponse<T>> bounded(CompletableFuture<HttpResponse<T>> exchange,
      HttpRequest request) {
    if (request.timeout().isEmpty() || exchange.isDone()) {
      return exchange;
    }
    Duration timeout = request.timeout().get();
    CompletableFuture<HttpResponse<T>> bounded = new CompletableFuture<>();
    Scheduler.Cancellable timer = scheduler.schedule(() -> {
      if (bounded.completeExceptionally(new HttpTimeoutException("request timed out after " + timeout))) {
        executor.execute(() -> exchange.cancel(true));
      }
    }, timeout.toNanos());
    exchange.whenComplete((response, error) -> {
      timer.cancel();
      if (error != null) {
        bounded.completeExceptionally(error);
      } else {
        bounded.complete(response);
      }
    });
    return bounded;
  }

  // ---- responses ----

  private <T> void onResponse(CallImpl<T> call, Permit permit, long headersRtt, HttpResponse<T> response,
      Throwable error) {
    long now = clock.nanoTime();
    HttpRequest request = call.request;
    int status = response == null ? 0 : response.statusCode();
    boolean retriedStatus = response != null && policy.retriesStatus(status);
    QuotaFields fields = response == null ? QuotaFields.NONE
        : QuotaFields.parse(response.headers(), wallClock.instant());
    ServerWait asked = retriedStatus ? ServerWait.parse(response.headers(), wallClock.instant()) : null;
    boolean honoured = asked != null && asked.waitTime().isPresent()
        && asked.waitTime().get().compareTo(policy.maxServerWait()) <= 0;
    boolean spent = false;
    boolean wasPair = false;
    Runnable afterProbe;
    if (log.isTraceEnabled()) {
      log.trace("{} {}: attempt {} answered {} at {} us, {} us after it was sent", request.method(), request.uri(),
          call.attempts, status, now / 1000, (now - call.lastSent) / 1000);
    }
    synchronized (lock) {
      sentInFlight--;
      if (response != null) {
        long rtt = headersRtt >= 0 ? headersRtt : now - call.lastSent;
        rtts.add(rtt);
        if (call == lastDispatched && call.state == State.IN_FLIGHT) {
          lastDispatchedRtt = rtt;
        }
      }
      if (call.pair) {
        wasPair = true;
        call.pair = false; // a retry of it is paced like any other
        pairAnswered(status);
      }
      afterProbe = observe(call, fields, status, now);
      if (status == 429) {
        spent = honoured && quotaSpent(asked.waitTime().get(), fields);
        if (spent) {
          refusedSpent++;
        } else {
          refusedEarly++;
        }
        if (windowMode) {
          windowCap = windowSends; // whatever we counted, the server says this window is spent
          if (now - windowEnd >= 0) {
            windowEnd = now + jitterMargin.toNanos(); // it reset later than we thought
          }
        }
      }
    }
    if (spent || (honoured && status != 429)) {
      // The quota is spent until later than the next paced send (or a 503 asks it): no call of this client is sent
      // before then. Before the permit goes back: the next call must already see the pause.
      pause(now + asked.waitTime().get().toNanos());
    }
    if (status == 429 && !spent && !wasPair) {
      early(call); // a refusal of the pair is the answer it asked for, not a sign of jitter
    }
    permit.close();
    if (afterProbe != null) {
      afterProbe.run();
    }
    synchronized (lock) {
      if (call.state == State.DONE) {
        return; // cancelled in flight
      }
      call.end = now;
    }
    if (error != null) {
      Throwable cause = unwrap(error);
      boolean timeout = cause instanceof HttpTimeoutException;
      boolean refused = neverSent(cause);
      String what = describe(cause, request);
      boolean retry = cause instanceof IOException && policy.retriesError(timeout, refused, request.method());
      if (retry && call.attempts < policy.maxAttempts()) {
        long wait = policy.backoff(call.attempts, random());
        log.debug("{} {}: {} (attempt {}); retrying in {} ms", request.method(), request.uri(), what, call.attempts,
            wait / 1_000_000);
        retryLater(call, wait);
      } else {
        finish(call, Outcome.Status.FAILED, null,
            retry ? what + " (gave up after " + call.attempts + " attempts)" : what);
      }
      return;
    }
    if (status >= 200 && status < 300) {
      Pacer p = pacer;
      if (p != null) {
        p.onSuccess();
      }
      finish(call, Outcome.Status.SUCCEEDED, response, null);
      return;
    }
    if (!retriedStatus) {
      finish(call, Outcome.Status.FAILED, response, "HTTP " + status);
      return;
    }
    for (String problem : asked.problems()) {
      log.warn("{} {}: HTTP {} with an unreadable header, ignored: {}", request.method(), request.uri(), status,
          problem);
    }
    if (call.attempts >= policy.maxAttempts()) {
      finish(call, Outcome.Status.FAILED, response, "HTTP " + status + " (gave up after " + call.attempts
          + " attempts)");
      return;
    }
    if (asked.waitTime().isPresent() && !honoured) {
      String why = "HTTP " + status + ": the server asked to wait " + asked.askedText() + " (" + asked.source()
          + "), more than the maximum " + seconds(policy.maxServerWait());
      log.warn("{} {}: {}; not retried", request.method(), request.uri(), why);
      finish(call, Outcome.Status.FAILED, response, why);
      return;
    }
    long nanos;
    if (honoured) {
      nanos = asked.waitTime().get().toNanos();
      log.debug("{} {}: HTTP {}, {}{}; retrying in {} ms", request.method(), request.uri(), status, asked.source(),
          spent ? " (quota spent: every call waits)" : "", nanos / 1_000_000);
    } else {
      nanos = policy.backoff(call.attempts, random());
      log.debug("{} {}: HTTP {} without a wait; retrying in {} ms", request.method(), request.uri(), status,
          nanos / 1_000_000);
    }
    retryLater(call, nanos);
  }

  /**
   * Whether a {@code 429} says that the quota is spent until later than the client's next paced send (every call
   * waits) rather than that this one request came a little early (only it waits). The server's wait is in whole
   * seconds rounded up, so it proves a wait of only {@code wait - 1 s}; when that is no longer than the interval
   * the client keeps anyway, the refusal is jitter or a burst the server did not take.
   */
  private boolean quotaSpent(Duration wait, QuotaFields fields) {
    double rate = currentRate();
    long interval = Double.isNaN(rate) || rate <= 0 ? 0 : (long) (1e9 / rate);
    long proven = wait.toNanos() - 1_000_000_000L;
    if (fields.remaining().isPresent() && fields.remaining().get() > 0) {
      return false; // quota left: not spent, whatever the wait
    }
    return proven > interval;
  }

  /** A {@code 429} at a rate the client keeps: from now on, sends one by one, the margin a little wider. */
  private void early(CallImpl<?> call) {
    Pacer p = pacer;
    if (p == null) {
      synchronized (lock) {
        if (pacer == null) {
          pacer = new Pacer(configuredRate, false, SLOW_START_RATE, clock, scheduler);
          pacer.startEmpty(); // the refused request's slot went to one the server took: the next is an interval on
        }
        p = pacer;
      }
      log.debug("a 429 at the configured rate: sends are now spaced one by one ({})", p);
      return; // the first: the burst was the cause, not the spacing
    }
    double rate = p.rate();
    boolean bursting = call.gapBefore < (long) (0.9e9 / rate);
    if (!bursting || adaptive) {
      p.onRateLimited(call.lastSent);
    }
  }

  /**
   * Reads the quota fields of a response into the shared view of the server. Called with the lock held; returns
   * what to run without it at the end of the probe (the first response), or null.
   */
  private Runnable observe(CallImpl<?> call, QuotaFields fields, int status, long now) {
    if (!fields.isEmpty()) {
      fieldsDialect = fields.dialect();
    }
    Optional<Long> q = fields.quota();
    Optional<Long> r = fields.remaining();
    Optional<java.math.BigDecimal> w = fields.windowSeconds();
    if (q.isPresent() && w.isPresent() && w.get().signum() > 0) {
      quota = q.get();
      windowNanos = w.get().movePointRight(9).longValue();
      double published = fields.ratePerSecond().orElseThrow();
      String from = "RateLimit-Policy q=" + q.get() + ";w=" + w.get().toPlainString();
      if (adaptive && !from.equals(rateFromFields)) {
        rateFromFields = from;
        if (limit == null && !aimdAsked && probe == Probe.SENT) {
          // --rate auto, told at the first answer: keep the published policy as if it had been configured, with
          // the burst the remaining quota shows (the client's bucket starts at the end of the probe, below).
          long b = r.map(x -> x + 1).orElse(q.get());
          learnedLimit = Limit.builder().rate(q.get(), Duration.ofNanos(windowNanos)).burst(Math.max(1, b)).build();
          configuredRate = published;
          adaptive = false;
          pacer = null;
        } else {
          learnRate(published);
        }
      } else if (!adaptive && published < configuredRate * 0.99 && !from.equals(rateFromFields)) {
        rateFromFields = from + " (below the configured rate)";
        learnRate(published);
      }
      if (r.isPresent() && q.get() >= 2 && r.get() >= q.get() - 1 && !windowMode) {
        // A full quota at once: count per window (conservative for a bucket of that burst).
        windowMode = true;
        if (r.get() == q.get() - 1) { // this request opened the server's window
          windowStart = call.lastSent;
          windowEnd = now + windowNanos; // it opened when the probe arrived, at the latest now
          windowSends = 1 + sentInFlight;
          windowCap = quota;
          windowCapSeq = 0;
          call.windowSeq = 1;
        } // else a response that took nothing (a quota endpoint): the next send opens a window
      }
    }
    if (windowMode && r.isPresent() && call.lastSent - windowStart >= 0) {
      if (r.get() == quota - 1 && call.lastSent == windowStart) {
        windowEnd = Math.min(windowEnd, now + windowNanos); // answered at once: the reset is no later than this
      }
      // r counts what reached the server up to this request: the sends before it (unless one was overtaken) and
      // whatever others sent. Only the answer to the latest send says what is left now: earlier ones are older news,
      // and a send that overtook this one is counted twice until the next answer corrects it.
      if (call.windowSeq > windowCapSeq) {
        windowCapSeq = call.windowSeq;
        windowCap = Math.min(quota, r.get() + call.windowSeq);
      }
    }
    if (probe != Probe.SENT) {
      return null;
    }
    probe = Probe.DONE;
    int deferred = deferredSlots;
    deferredSlots = 0;
    Long burst = r.map(x -> x + 1).orElse(null);
    serverBurst = burst;
    boolean noBurst = burst != null && burst == 1;
    boolean pair = burst == null && status >= 200 && status < 300 && !adaptive && pacer == null && deferred >= PAIR;
    return () -> {
      // Start the client's bucket now, full but for the probe: the server's started when the probe arrived, which
      // is no later than now, so a burst that the client's bucket allows from now on is one the server's allows
      // too, however slowly the first requests travelled (the cold start).
      Limit kept = limit != null ? limit : learnedLimit != null ? learnedLimit : UNLIMITED;
      Throttle fresh = throttleFor(kept, burst == null ? Long.MAX_VALUE : burst);
      fresh.rate().tryAcquire(cost);
      throttle = fresh;
      if ((noBurst || pair) && pacer == null) {
        synchronized (lock) {
          pacer = new Pacer(configuredRate, false, SLOW_START_RATE, clock, scheduler);
          if (pair) {
            pacer.startEmpty(); // the probe had the first interval
            pairPacer = pacer;
            pairToStart = PAIR;
            pairToAnswer = PAIR;
            pairDue = now + pacer.spacingNanos(); // from the probe's answer: it arrived no later than that
          }
        }
      }
      for (int i = 0; i < deferred; i++) {
        requestSlot();
      }
    };
  }

  /** One answer to the pair: both taken, and the server takes bursts; the pacing ends. Called with the lock held. */
  private void pairAnswered(int status) {
    pairRefused |= status < 200 || status >= 300;
    if (--pairToAnswer == 0 && !pairRefused && pacer == pairPacer) {
      log.debug("the server took two requests at once: it takes bursts, sends are no longer spaced one by one");
      pacer = null;
      pairPacer.releaseAll(); // the calls waiting for it go now, as the client's own bucket allows
    }
    if (pairToAnswer == 0) {
      pairPacer = null;
    }
  }

  private void learnRate(double perSecond) {
    if (pacer == null) {
      pacer = new Pacer(perSecond, adaptive, SLOW_START_RATE, clock, scheduler);
    } else {
      pacer.learnRate(perSecond);
    }
  }

  private void pause(long until) {
    synchronized (lock) {
      if (!paused || until - pausedUntil > 0) {
        paused = true;
        pausedUntil = until;
      }
    }
  }

  private void retryLater(CallImpl<?> call, long delayNanos) {
    synchronized (lock) {
      if (call.state == State.DONE) {
        return;
      }
      call.state = State.WAITING;
      call.timer = scheduler.schedule(() -> executor.execute(() -> requeue(call)), delayNanos);
    }
  }

  private void requeue(CallImpl<?> call) {
    synchronized (lock) {
      if (call.state != State.WAITING) { // DONE included
        return;
      }
      call.state = State.QUEUED;
      retryQueue.addLast(call);
    }
    requestSlot();
  }

  private <T> void finish(CallImpl<T> call, Outcome.Status status, HttpResponse<T> response, String error) {
    Outcome<T> outcome;
    synchronized (lock) {
      if (call.state == State.DONE) {
        return;
      }
      call.state = State.DONE;
      active.remove(call);
      outcome = new Outcome<>(status, response, call.attempts, error, call.sent, call.firstSent, call.lastSent,
          call.end);
    }
    call.result.complete(outcome);
  }

  private <T> boolean cancel(CallImpl<T> call) {
    CompletableFuture<?> stage = null;
    CompletableFuture<Permit> slot = null;
    Outcome<T> outcome;
    synchronized (lock) {
      if (call.state == State.DONE) {
        return false;
      }
      switch (call.state) {
        case QUEUED:
          if (retryQueue.remove(call) || newQueue.remove(call)) {
            slot = dropOneSlotRequest();
          }
          break;
        case WAITING:
          call.timer.cancel();
          break;
        case STARTING:
        case IN_FLIGHT:
          stage = call.stage; // null if not yet set: the sender checks isDone() after setting it
          call.end = clock.nanoTime();
          break;
        default:
          break;
      }
      call.state = State.DONE;
      active.remove(call);
      outcome = new Outcome<>(Outcome.Status.CANCELLED, null, call.attempts, "cancelled", call.sent, call.firstSent,
          call.lastSent, call.end);
    }
    discard(slot);
    if (stage != null) {
      stage.cancel(true);
    }
    call.result.complete(outcome);
    return true;
  }

  @Override
  public void close() {
    List<CallImpl<?>> calls;
    List<CompletableFuture<Permit>> slots;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      calls = new ArrayList<>(active);
      slots = new ArrayList<>(slotRequests);
      slotRequests.clear();
      for (DelayedSlot d : delayedSlots) {
        d.handle.cancel();
      }
      delayedSlots.clear();
    }
    for (CompletableFuture<Permit> slot : slots) {
      discard(slot);
    }
    for (CallImpl<?> call : calls) {
      cancel(call);
    }
    pool.shutdown();
    if (ownsHttp && http instanceof AutoCloseable) {
      try {
        ((AutoCloseable) http).close(); // Java 21+; on 17 its selector thread ends when it is collected
      } catch (Exception e) {
        log.debug("closing the HTTP client failed", e);
      }
    }
    if (!Thread.currentThread().getName().startsWith("throttle-client-")) {
      try {
        if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
          log.warn("the client's threads did not end within 5 s of close()");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- helpers ----

  private RandomGenerator random() {
    return random != null ? random : ThreadLocalRandom.current();
  }

  private static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** The connection failed (refused, or the connect timed out): the request cannot have reached the server. */
  private static boolean neverSent(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof HttpConnectTimeoutException) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable cause, HttpRequest request) {
    if (cause instanceof HttpConnectTimeoutException) {
      return "connect timed out";
    }
    if (cause instanceof HttpTimeoutException) {
      return request.timeout().map(t -> "timed out after " + seconds(t)).orElse("timed out");
    }
    if (neverSent(cause)) {
      return "connection refused";
    }
    String message = cause.getMessage();
    String kind = cause instanceof IOException ? "connection error" : "request failed";
    return kind + ": " + cause.getClass().getSimpleName() + (message == null ? "" : " " + message);
  }

  private static String seconds(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.3f s", ms / 1000.0);
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "ThrottledHttpClient[" + throttle + (pacer == null ? "" : ", " + pacer) + ", " + active.size()
          + " active" + (closed ? ", closed" : "") + "]";
    }
  }

  /**
   * The shortest of the last round trips: a send whose answer took longer than that, by more than the spacing
   * margin, is taken to have reached the server late by as much (measured against nginx: the request refused is
   * the one after a slow one). Guarded by the client's lock.
   */
  static final class Rtts {
    private final long[] last = new long[15];
    private int count;

    void add(long rttNanos) {
      last[count++ % last.length] = rttNanos;
    }

    /**
     * The shortest of the last 15; 0 before the fifth answer, while the first round trips are all slowed by new
     * connections: a send is then taken to have arrived as late as its answer came.
     */
    long shortest() {
      if (count < 5) {
        return 0;
      }
      long min = Long.MAX_VALUE;
      for (int i = 0, n = Math.min(count, last.length); i < n; i++) {
        min = Math.min(min, last[i]);
      }
      return min;
    }
  }

  /**
   * The body handler of one attempt, which notes when the answer's status line and fields were read: the round trip
   * that the "late previous" rule reads, without the time the body and the hand-off to the client's executor take
   * (measured against nginx: 1.1 to 2.1 ms from the wire to the end of the exchange, most of it after the fields).
   */
  private final class HeadersTime<T> implements HttpResponse.BodyHandler<T> {
    private final HttpResponse.BodyHandler<T> handler;
    private final long sentNanos;
    volatile long rtt = -1;

    HeadersTime(HttpResponse.BodyHandler<T> handler, long sentNanos) {
      this.handler = handler;
      this.sentNanos = sentNanos;
    }

    @Override
    public HttpResponse.BodySubscriber<T> apply(HttpResponse.ResponseInfo info) {
      rtt = clock.nanoTime() - sentNanos;
      return handler.apply(info);
    }
  }

  /** A request for a slot scheduled for the end of a pause. */
  private static final class DelayedSlot {
    Scheduler.Cancellable handle;
  }

  /** One call; its mutable fields are guarded by the client's lock, except the volatile stage. */
  private final class CallImpl<T> implements Call<T> {
    final HttpRequest request;
    final HttpResponse.BodyHandler<T> handler;
    final CompletableFuture<Outcome<T>> result = new CompletableFuture<>();
    State state = State.QUEUED; // DONE once the call has its outcome, and never anything else after
    int attempts;
    boolean sent;
    long firstSent;
    long lastSent;
    long end;
    long gapBefore; // from the send before this one's last attempt
    boolean pair; // one of the pair, not answered yet
    long windowSeq; // its place among the sends of its window (window mode)
    Scheduler.Cancellable timer;
    volatile CompletableFuture<?> stage;

    CallImpl(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
      this.request = request;
      this.handler = handler;
    }

    boolean isDone() {
      synchronized (lock) {
        return state == State.DONE;
      }
    }

    @Override
    public CompletableFuture<Outcome<T>> outcome() {
      return result.copy();
    }

    @Override
    public boolean cancel() {
      return DefaultThrottledHttpClient.this.cancel(this);
    }

    @Override
    public String toString() {
      return "Call[" + request.method() + " " + request.uri() + "]";
    }
  }
}
