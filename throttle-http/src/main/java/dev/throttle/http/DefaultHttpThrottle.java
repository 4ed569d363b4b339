package dev.throttle.http;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import dev.throttle.core.RateLimitStore;
import dev.throttle.core.Reservation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link HttpThrottle}: the rules, their stores, and the admissions still waiting. */
final class DefaultHttpThrottle implements HttpThrottle {

  private static final Logger log = LoggerFactory.getLogger(HttpThrottle.class);

  /** The key shared by requests without one under {@link Rule.MissingKey#SHARED}; no resolver produces it. */
  static final String NO_KEY = "(none)";

  /** A rule with what it needs at run time. */
  private static final class Entry {
    final Rule rule;
    final RateLimitStore<String> store;
    final Render.Policy policy;

    Entry(Rule rule, RateLimitStore<String> store) {
      this.rule = rule;
      this.store = store;
      this.policy = new Render.Policy(rule);
    }
  }

  private final List<Entry> entries;
  private final List<Rule> rules;
  private final boolean legacy;
  private final Clock clock;
  private final Consumer<Verdict> listener;
  private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  DefaultHttpThrottle(HttpThrottle.Builder b, List<Rule> rules) {
    if (rules.isEmpty()) {
      throw new IllegalArgumentException("a throttle needs at least one rule");
    }
    Set<String> names = new HashSet<>();
    List<Entry> list = new ArrayList<>();
    for (Rule rule : rules) {
      if (!names.add(rule.name())) {
        throw new IllegalArgumentException("Invalid rule '" + rule.name() + "': two rules have this name");
      }
      RateLimitStore<String> store = rule.store();
      if (store == null) {
        try {
          store = b.stores.create(rule);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("Invalid rule '" + rule.name() + "': no store for it: " + e.getMessage(), e);
        }
        if (store == null || !store.limit().equals(rule.limit())) {
          throw new IllegalArgumentException("Invalid rule '" + rule.name() + "': the store factory gave "
              + (store == null ? "no store" : "a store for '" + store.limit() + "', not '" + rule.limit() + "'"));
        }
      }
      list.add(new Entry(rule, store));
    }
    this.entries = List.copyOf(list);
    this.rules = List.copyOf(rules);
    this.legacy = b.legacyHeaders;
    this.clock = b.clock;
    this.listener = b.listener;
  }

  @Override
  public Admission admit(RequestView request) {
    Entry entry = match(request);
    if (entry == null) {
      return done(Render.unthrottled(null)); // not the throttle's business, closed or not
    }
    Rule rule = entry.rule;
    if (closed) {
      return done(Render.unavailable(Verdict.Outcome.SHUT_DOWN, rule.name(), null, 0, 0));
    }
    String key;
    long cost;
    try {
      key = rule.key().resolve(request);
    } catch (InvalidKeyException e) {
      return done(Render.badRequest(Verdict.Outcome.INVALID_KEY, rule.name(), e.getMessage()));
    } catch (RuntimeException e) {
      log.error("The key resolver of rule '{}' ({}) failed", rule.name(), rule.key(), e);
      return done(Render.failed(rule.name()));
    }
    if (key == null) {
      switch (rule.onMissingKey()) {
        case REJECT:
          return done(Render.badRequest(Verdict.Outcome.MISSING_KEY, rule.name(), "The rate limit '" + rule.name()
              + "' applies per " + rule.key() + ", and this request has none."));
        case ALLOW:
          return done(Render.unthrottled(rule.name()));
        default:
          key = NO_KEY;
      }
    }
    try {
      cost = rule.cost(request);
    } catch (RuntimeException e) {
      log.error("The cost of a request under rule '{}' could not be computed", rule.name(), e);
      return done(Render.failed(rule.name()));
    }
    Pending p = new Pending(entry, key, cost);
    p.start();
    return p;
  }

  private Entry match(RequestView request) {
    String method = request.method();
    String path = request.path();
    for (Entry e : entries) {
      if (e.rule.matches(method, path)) {
        return e;
      }
    }
    return null;
  }

  private Admission done(Verdict v) {
    notifyListener(v);
    CompletableFuture<Verdict> f = CompletableFuture.completedFuture(v);
    return new Admission() {
      @Override
      public CompletableFuture<Verdict> verdict() {
        return f.copy();
      }

      @Override
      public boolean cancel(Cancel reason) {
        return false;
      }

      @Override
      public String toString() {
        return "Admission[" + v + "]";
      }
    };
  }

  private void notifyListener(Verdict v) {
    if (v.outcome() == Verdict.Outcome.REFUSED || v.outcome() == Verdict.Outcome.DRY_RUN_REFUSED) {
      log.debug("{} under rule '{}' for key {}", v.outcome(), v.ruleName(), v.key());
    }
    try {
      listener.accept(v);
    } catch (RuntimeException e) {
      log.warn("The verdict listener failed on {}", v, e);
    }
  }

  @Override
  public List<Rule> rules() {
    return rules;
  }

  @Override
  public int waiting() {
    return pending.size();
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    int answered = 0;
    for (Pending p : pending) {
      if (p.cancel(Verdict.Outcome.SHUT_DOWN)) {
        answered++;
      }
    }
    if (answered > 0) {
      log.info("Throttle closed: {} waiting request(s) answered 503", answered);
    }
  }

  @Override
  public String toString() {
    return "HttpThrottle" + rules;
  }

  /**
   * An admission waiting for its store's answer or for its turn. Whoever completes {@link #verdict} first wins:
   * the store's answer, the turn coming, or a cancellation; a cancellation that finds the place still queued gives it
   * up, so its tokens return.
   */
  private final class Pending implements Admission {
    private final Entry entry;
    private final String key;
    private final long cost;
    private final CompletableFuture<Verdict> verdict = new CompletableFuture<>();
    /** The verdict, set once before {@link #verdict} completes, so that the listener hears of it first. */
    private final AtomicReference<Verdict> decided = new AtomicReference<>();
    /** Why this admission was given up; set once, before the reservation (if any) is cancelled. */
    private final AtomicReference<Verdict.Outcome> cancelled = new AtomicReference<>();
    private volatile Reservation reservation;
    private long startedAt;
    private long dueAt;

    Pending(Entry entry, String key, long cost) {
      this.entry = entry;
      this.key = key;
      this.cost = cost;
    }

    void start() {
      startedAt = clock.nanoTime();
      pending.add(this);
      Rule rule = entry.rule;
      try {
        if (rule.mode() == Rule.Mode.REJECT || rule.isDryRun()) {
          entry.store.decide(key, cost).whenComplete(this::onDecision);
        } else {
          entry.store.reserve(key, cost, rule.maxWait()).whenComplete(this::onReservation);
        }
      } catch (RuntimeException e) {
        onFailure(e);
      }
      if (closed) {
        cancel(Verdict.Outcome.SHUT_DOWN); // closed while this was being admitted
      }
    }

    private void onDecision(Decision d, Throwable error) {
      if (error != null) {
        onFailure(error);
      } else if (d.isAllowed()) {
        finish(Render.pass(Verdict.Outcome.ALLOWED, entry.policy, legacy, key, d.remaining(), d.resetNanos(), 0));
      } else if (entry.rule.isDryRun()) {
        finish(Render.pass(Verdict.Outcome.DRY_RUN_REFUSED, entry.policy, legacy, key, d.remaining(), d.resetNanos(),
            0));
      } else {
        finish(Render.refused(entry.policy, legacy, key, d));
      }
    }

    private void onReservation(Reservation r, Throwable error) {
      if (error != null) {
        onFailure(error);
        return;
      }
      if (!r.isGranted()) {
        finish(Render.refused(entry.policy, legacy, key, r.decision()));
        return;
      }
      if (r.isReady()) {
        Decision d = r.decision();
        finish(Render.pass(Verdict.Outcome.ALLOWED, entry.policy, legacy, key, d.remaining(), d.resetNanos(), 0));
        return;
      }
      dueAt = startedAt + r.delayNanos();
      reservation = r;
      r.whenReady().whenComplete((ready, failure) -> {
        long waited = clock.nanoTime() - startedAt;
        if (failure == null) {
          // Its tokens were taken when it became ready: none are known to remain, and the bucket is full after the
          // reset estimated at reservation, less the wait.
          long reset = Math.max(0, r.decision().resetNanos() - waited);
          finish(Render.pass(Verdict.Outcome.DELAYED, entry.policy, legacy, key, 0, reset, waited));
        } else if (cancelled.get() != null) {
          finish(cancelledVerdict(cancelled.get()));
        } else {
          onFailure(failure);
        }
      });
      if (cancelled.get() != null) {
        r.cancel(); // given up before the reservation was known
      }
    }

    private void onFailure(Throwable error) {
      if (decided.get() == null) {
        log.warn("The store of rule '{}' failed; answering 503", entry.rule.name(), error);
      }
      finish(Render.unavailable(Verdict.Outcome.STORE_FAILED, entry.rule.name(), key, 0, 0));
    }

    @Override
    public CompletableFuture<Verdict> verdict() {
      return verdict.copy();
    }

    @Override
    public boolean cancel(Cancel reason) {
      return cancel(reason == Cancel.CLIENT_GONE ? Verdict.Outcome.CLIENT_GONE : Verdict.Outcome.TIMED_OUT);
    }

    boolean cancel(Verdict.Outcome reason) {
      if (decided.get() != null || !cancelled.compareAndSet(null, reason)) {
        return false;
      }
      Reservation r = reservation;
      if (r == null) {
        // The store has not answered yet: answer now; a reservation that arrives later is cancelled on arrival.
        return finish(cancelledVerdict(reason));
      }
      if (r.cancel()) {
        return finish(cancelledVerdict(reason)); // the future's own callback may have got there first: same verdict
      }
      return false; // it became ready at this moment: the request goes on
    }

    private Verdict cancelledVerdict(Verdict.Outcome reason) {
      long now = clock.nanoTime();
      long waited = now - startedAt;
      long left = reservation == null ? 0 : Math.max(0, dueAt - now);
      return Render.unavailable(reason, entry.rule.name(), key, left, waited);
    }

    /**
     * Decides the verdict if nothing did: the listener hears of it, then the future completes (and the adapter acts).
     * True if this call decided it, or an equal verdict was already there.
     */
    private boolean finish(Verdict v) {
      if (decided.compareAndSet(null, v)) {
        pending.remove(this);
        notifyListener(v);
        verdict.complete(v);
        return true;
      }
      return decided.get().outcome() == v.outcome();
    }

    @Override
    public String toString() {
      return "Admission[" + entry.rule.name() + ", key " + key + ", cost " + cost
          + (decided.get() != null ? ", " + decided.get() : ", waiting") + "]";
    }
  }
}
