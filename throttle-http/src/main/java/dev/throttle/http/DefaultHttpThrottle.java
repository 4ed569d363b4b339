package dev.throttle.http;

import dev.throttle.core.Clock;
import dev.throttle.core.Decision;
import dev.throttle.core.KeyedRateLimiter;
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
    final KeyedRateLimiter<String> store;
    /** Before every key given to the store: the rule's id, so that rules never share a bucket by accident. */
    final String storeKeyPrefix;
    final Render.Policy policy;

    Entry(Rule rule, KeyedRateLimiter<String> store, RateLimitHeaders headers, boolean legacy) {
      this.rule = rule;
      this.store = store;
      this.storeKeyPrefix = rule.id() + ":";
      this.policy = new Render.Policy(rule, headers, legacy);
    }
  }

  private final List<List<Entry>> groups;
  private final List<Rule> rules;
  private final RateLimitHeaders headers;
  private final Clock clock;
  private final Consumer<Verdict> listener;
  private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  DefaultHttpThrottle(HttpThrottle.Builder b, List<List<Rule>> ruleGroups) {
    if (ruleGroups.isEmpty()) {
      throw new IllegalArgumentException("a throttle needs at least one rule");
    }
    Set<String> names = new HashSet<>();
    List<List<Entry>> groupList = new ArrayList<>();
    List<Rule> all = new ArrayList<>();
    for (List<Rule> group : ruleGroups) {
      List<Entry> list = new ArrayList<>();
      for (Rule rule : group) {
        if (!names.add(rule.name())) {
          throw new IllegalArgumentException("Invalid rule '" + rule.name() + "': two rules have this name");
        }
        list.add(new Entry(rule, storeFor(rule, b.stores), b.headers, b.legacyHeaders));
        all.add(rule);
      }
      groupList.add(List.copyOf(list));
    }
    this.groups = List.copyOf(groupList);
    this.rules = List.copyOf(all);
    this.headers = b.headers;
    this.clock = b.clock;
    this.listener = b.listener;
  }

  private static KeyedRateLimiter<String> storeFor(Rule rule, StoreFactory stores) {
    KeyedRateLimiter<String> store = rule.store();
    if (store != null) {
      return store;
    }
    try {
      store = stores.create(rule);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Invalid rule '" + rule.name() + "': no store for it: " + e.getMessage(), e);
    }
    if (store == null || !store.limit().equals(rule.limit())) {
      throw new IllegalArgumentException("Invalid rule '" + rule.name() + "': the store factory gave "
          + (store == null ? "no store" : "a store for '" + store.limit() + "', not '" + rule.limit() + "'"));
    }
    return store;
  }

  @Override
  public Admission admit(RequestView request) {
    List<Entry> group = match(request);
    if (group == null) {
      return done(Render.unthrottled(null)); // not the throttle's business, closed or not
    }
    if (group.size() == 1) {
      Object prepared = prepare(group.get(0), request);
      return prepared instanceof Verdict v ? done(v) : ((Pending) prepared).start();
    }
    // A group: every rule's key and cost now (the request is not read later); any answer stops it before tokens go.
    List<Pending> stages = new ArrayList<>(group.size());
    for (Entry e : group) {
      Object prepared = prepare(e, request);
      if (prepared instanceof Verdict v) {
        if (v.outcome() != Verdict.Outcome.UNTHROTTLED) {
          return done(v);
        }
        notifyListener(v); // this rule lets requests without its key pass: it is skipped
      } else {
        stages.add((Pending) prepared);
      }
    }
    if (stages.isEmpty()) {
      return done(Render.unthrottled(group.get(0).rule.name()));
    }
    return stages.size() == 1 ? stages.get(0).start() : new Chain(stages).start();
  }

  /**
   * What {@code entry}'s rule makes of {@code request} before asking its store: a {@link Verdict} when that is
   * already the answer (shut down, a missing or invalid key, a failed function, passed without a key), or a
   * {@link Pending} ready to start.
   */
  private Object prepare(Entry entry, RequestView request) {
    Rule rule = entry.rule;
    if (closed) {
      return Render.unavailable(Verdict.Outcome.SHUT_DOWN, rule.name(), null, 0, 0);
    }
    String key;
    long cost;
    try {
      key = rule.key().resolve(request);
    } catch (InvalidKeyException e) {
      return Render.badRequest(Verdict.Outcome.INVALID_KEY, rule.name(), e.getMessage());
    } catch (RuntimeException e) {
      log.error("The key resolver of rule '{}' ({}) failed", rule.name(), rule.key(), e);
      return Render.failed(rule.name());
    }
    if (key == null) {
      switch (rule.onMissingKey()) {
        case REJECT:
          return Render.badRequest(Verdict.Outcome.MISSING_KEY, rule.name(), "The rate limit '" + rule.name()
              + "' applies per " + rule.key() + ", and this request has none.");
        case ALLOW:
          return Render.unthrottled(rule.name());
        default:
          key = NO_KEY;
      }
    }
    try {
      cost = rule.cost(request);
    } catch (RuntimeException e) {
      log.error("The cost of a request under rule '{}' could not be computed", rule.name(), e);
      return Render.failed(rule.name());
    }
    return new Pending(entry, key, cost);
  }

  private List<Entry> match(RequestView request) {
    String method = request.method();
    String path = request.path();
    for (List<Entry> g : groups) {
      if (g.get(0).rule.matches(method, path)) {
        return g;
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

    Pending start() {
      startedAt = clock.nanoTime();
      pending.add(this);
      Rule rule = entry.rule;
      String storeKey = entry.storeKeyPrefix.concat(key);
      try {
        if (rule.mode() == Rule.Mode.REJECT || rule.isDryRun()) {
          entry.store.decideAsync(storeKey, cost).whenComplete(this::onDecision);
        } else {
          entry.store.reserveAsync(storeKey, cost, rule.maxWait()).whenComplete(this::onReservation);
        }
      } catch (RuntimeException e) {
        onFailure(e);
      }
      if (closed) {
        cancel(Verdict.Outcome.SHUT_DOWN); // closed while this was being admitted
      }
      return this;
    }

    private void onDecision(Decision d, Throwable error) {
      if (error != null) {
        onFailure(error);
      } else if (d.isAllowed()) {
        finish(Render.pass(Verdict.Outcome.ALLOWED, entry.policy, key, d.remaining(), d.resetNanos(), 0));
      } else if (entry.rule.isDryRun()) {
        finish(Render.pass(Verdict.Outcome.DRY_RUN_REFUSED, entry.policy, key, d.remaining(), d.resetNanos(),
            0));
      } else {
        finish(Render.refused(entry.policy, key, d));
      }
    }

    private void onReservation(Reservation r, Throwable error) {
      if (error != null) {
        onFailure(error);
        return;
      }
      if (!r.isGranted()) {
        finish(Render.refused(entry.policy, key, r.decision()));
        return;
      }
      if (r.isReady()) {
        Decision d = r.decision();
        finish(Render.pass(Verdict.Outcome.ALLOWED, entry.policy, key, d.remaining(), d.resetNanos(), 0));
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
          finish(Render.pass(Verdict.Outcome.DELAYED, entry.policy, key, 0, reset, waited));
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

  /**
   * The admission of a group of rules: one rule's {@link Pending} at a time, in order, each started when the one
   * before let the request pass; ends at the first that does not, or after the last. A cancellation cancels the
   * rule waiting now, or, caught between two rules, stops the next from starting.
   */
  private final class Chain implements Admission {
    private final List<Pending> stages;
    private final CompletableFuture<Verdict> verdict = new CompletableFuture<>();
    // All guarded by this. A stage is started while holding the lock, so that a cancellation sees either the stage
    // before it (and stops this one from starting) or this one started.
    private final List<Verdict> passed = new ArrayList<>();
    private int current;
    private Verdict.Outcome cancelled;
    private boolean ended;

    Chain(List<Pending> stages) {
      this.stages = stages;
    }

    Chain start() {
      run(0);
      return this;
    }

    private void run(int i) {
      if (i == stages.size()) {
        List<Verdict> all;
        synchronized (this) {
          all = List.copyOf(passed);
        }
        end(Render.combine(all, null, headers));
        return;
      }
      Pending stage = stages.get(i);
      Verdict stopped = null;
      synchronized (this) {
        if (cancelled != null) {
          long waited = 0;
          for (Verdict v : passed) {
            waited += v.waitedNanos();
          }
          stopped = Render.unavailable(cancelled, stage.entry.rule.name(), stage.key, 0, waited);
        } else {
          current = i;
          stage.start();
        }
      }
      if (stopped != null) {
        notifyListener(stopped);
        end(stopped);
        return;
      }
      stage.verdict.whenComplete((v, e) -> onStage(i, v));
    }

    private void onStage(int i, Verdict v) {
      if (v.proceeds()) {
        synchronized (this) {
          passed.add(v);
        }
        run(i + 1);
      } else {
        List<Verdict> all;
        synchronized (this) {
          all = List.copyOf(passed);
        }
        end(Render.combine(all, v, headers));
      }
    }

    private void end(Verdict v) {
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
      }
      verdict.complete(v);
    }

    @Override
    public CompletableFuture<Verdict> verdict() {
      return verdict.copy();
    }

    @Override
    public boolean cancel(Cancel reason) {
      Verdict.Outcome outcome = reason == Cancel.CLIENT_GONE ? Verdict.Outcome.CLIENT_GONE : Verdict.Outcome.TIMED_OUT;
      Pending stage;
      boolean last;
      synchronized (this) {
        if (ended || cancelled != null) {
          return false;
        }
        cancelled = outcome;
        stage = stages.get(current);
        last = current == stages.size() - 1;
      }
      if (stage.cancel(outcome)) {
        return true; // its verdict ends the chain
      }
      // That rule let the request pass at this moment: the next one will not start, unless it was the last.
      return !last;
    }

    @Override
    public String toString() {
      return "Admission[group of " + stages.size() + " rules" + (verdict.isDone() ? ", " + verdict.join() : "") + "]";
    }
  }
}
