#!/usr/bin/env python3
"""Writes spec/bucket-vectors.txt: expected decisions of the token bucket, from a reference model written with
exact fractions (Python's Fraction), independently of the Java credits encoding (BucketMath) and of the Lua script.

The model is the textbook token bucket: a bucket starts full at t=0; greedy refill adds rate*dt tokens continuously
(capped at the burst); interval refill adds k tokens at each multiple of the interval. A request of cost c passes if
every bucket holds c tokens, and then takes c from each. Numbers reported:
  remaining = floor(tokens left) (the fewest over the buckets)
  wait      = 0 if allowed, else ceil(ns until the refusing buckets hold c) (the longest)
  reset     = ceil(ns until every bucket is full again) (the longest)
Run: python3 spec/gen-vectors.py > spec/bucket-vectors.txt
"""
from fractions import Fraction
import math
import random

UNITS = {"ms": 10**6, "s": 10**9, "min": 60 * 10**9, "h": 3600 * 10**9, "day": 86400 * 10**9}


def parse_duration(text):
    for name in sorted(UNITS, key=len, reverse=True):
        if text.endswith(name):
            num = text[: -len(name)]
            return (int(num) if num else 1) * UNITS[name]
    raise ValueError(text)


def parse(limit, unix0=0):
    """The buckets of `limit` for a bucket created at Unix time unix0 (ns): interval boundaries are multiples of the
    interval in Unix time, so they lie at t with (t + unix0) % interval == 0."""
    buckets = []
    for part in limit.split(" and "):
        words = part.split()
        amount, period = words[0].split("/")
        amount, period = int(amount), parse_duration(period)
        burst, interval = amount, 0
        i = 1
        while i < len(words):
            if words[i] == "burst":
                burst = int(words[i + 1])
            elif words[i] == "every":
                interval = parse_duration(words[i + 1])
            i += 2
        buckets.append(Bucket(amount, period, burst, interval, unix0 % interval if interval else 0))
    return buckets


class Bucket:
    def __init__(self, amount, period, burst, interval, phase):
        self.rate = Fraction(amount, period)  # tokens per ns
        self.burst = burst
        self.interval = interval
        self.phase = phase  # the Unix time at t=0, modulo the interval
        self.k = amount * interval // period if interval else 0
        self.tokens = Fraction(burst)
        self.t = 0

    def advance(self, t):
        if self.interval:
            crossed = (t + self.phase) // self.interval - (self.t + self.phase) // self.interval
            self.tokens = min(Fraction(self.burst), self.tokens + crossed * self.k)
        else:
            self.tokens = min(Fraction(self.burst), self.tokens + (t - self.t) * self.rate)
        self.t = t

    def ns_until(self, tokens_needed):
        """ns from self.t until the bucket holds tokens_needed (<= burst)."""
        missing = tokens_needed - self.tokens
        if missing <= 0:
            return 0
        if self.interval:
            boundaries = math.ceil(missing / self.k)
            return ((self.t + self.phase) // self.interval + boundaries) * self.interval - self.phase - self.t
        return math.ceil(missing / self.rate)


def decide(buckets, t, cost):
    for b in buckets:
        b.advance(t)
    allowed = all(b.tokens >= cost for b in buckets)
    if allowed:
        for b in buckets:
            b.tokens -= cost
    remaining = min(math.floor(b.tokens) for b in buckets)
    wait = 0 if allowed else max(b.ns_until(cost) for b in buckets)
    reset = max(b.ns_until(b.burst) for b in buckets)
    return allowed, remaining, wait, reset


# ---- Reservations ------------------------------------------------------------------------------------------------
# A bucket as a function of time: `tokens` held right after its last take at `t0` (or full at 0), refilled after it.
# Nothing is ever advanced on a read, so the tokens at any time after the last take can be asked for.


def tokens_at(b, t0, tokens, t):
    if b.interval:
        crossed = (t + b.phase) // b.interval - (t0 + b.phase) // b.interval
        return min(Fraction(b.burst), tokens + crossed * b.k)
    return min(Fraction(b.burst), tokens + (t - t0) * b.rate)


def earliest(b, t0, tokens, s, need):
    """The first ns >= s at which the bucket holds `need` tokens (need <= burst)."""
    missing = need - tokens_at(b, t0, tokens, s)
    if missing <= 0:
        return s
    if b.interval:
        return ((s + b.phase) // b.interval + math.ceil(missing / b.k)) * b.interval - b.phase
    return s + math.ceil(missing / b.rate)


class Model:
    """The buckets of one limit, each as (t0, tokens): the time of its last take and what it held after it."""

    def __init__(self, limit, unix0=0):
        self.buckets = parse(limit, unix0)
        self.state = [(0, Fraction(b.burst)) for b in self.buckets]

    def held(self, t):
        return [tokens_at(b, t0, tk, t) for b, (t0, tk) in zip(self.buckets, self.state)]

    def due(self, state, s, cost):
        return max(earliest(b, t0, tk, s, cost) for b, (t0, tk) in zip(self.buckets, state))

    def take(self, state, t, cost):
        return [(t, tokens_at(b, t0, tk, t) - cost) for b, (t0, tk) in zip(self.buckets, state)]

    def reset(self, state, t):
        """ns from t until every bucket is full again (t at or after every take)."""
        return max(earliest(b, t0, tk, t, b.burst) for b, (t0, tk) in zip(self.buckets, state)) - t

    def plain(self, t, cost):
        """decide on a bucket nobody waits for: (allowed, remaining, wait, reset), taking the tokens if allowed."""
        held = self.held(t)
        if all(h >= cost for h in held):
            self.state = self.take(self.state, t, cost)
            return True, min(math.floor(h - cost) for h in held), 0, self.reset(self.state, t)
        return False, min(math.floor(h) for h in held), self.due(self.state, t, cost) - t, self.reset(self.state, t)


class QueueStore(Model):
    """Cancellation 'exact' (in process): waiters are a FIFO queue; each takes its tokens when it reaches the head
    and the buckets hold them, at the first moment it could (never before the previous take, nor before it was
    made); cancelling unlinks it and the ones behind move up."""

    def __init__(self, limit, unix0=0):
        super().__init__(limit, unix0)
        self.queue = []  # [id, cost, made]
        self.last = 0
        self.ready = set()

    def drain(self, t):
        while self.queue:
            rid, cost, made = self.queue[0]
            due = self.due(self.state, max(self.last, made), cost)
            if due > t:
                return
            self.state = self.take(self.state, due, cost)
            self.last = due
            self.ready.add(rid)
            self.queue.pop(0)

    def behind(self, t, cost):
        """(due, state) of a request of `cost` queued at t behind everyone waiting, granted at its due."""
        state, time = self.state, t
        for _, c, _ in self.queue:
            time = self.due(state, time, c)
            state = self.take(state, time, c)
        due = self.due(state, time, cost)
        return due, self.take(state, due, cost)

    def decide(self, t, cost):
        self.drain(t)
        if not self.queue:
            allowed, rem, wait, reset = self.plain(t, cost)
            if allowed:
                self.last = t
            return allowed, rem, wait, reset
        due, after = self.behind(t, cost)
        return False, 0, due - t, self.reset(after, due) + due - t

    def reserve(self, rid, t, cost, max_wait):
        self.drain(t)
        if not self.queue and all(h >= cost for h in self.held(t)):
            self.last = t
            return ("ready",) + self.plain(t, cost)[1:]
        if not self.queue:
            _, rem, wait, reset = self.plain(t, cost)
        due, after = self.behind(t, cost)
        if due - t > max_wait:
            return ("refused", rem, wait, reset) if not self.queue else ("refused", 0, due - t, self.reset(after, due) + due - t)
        self.queue.append([rid, cost, t])
        return "waiting", 0, due - t, self.reset(after, due) + due - t

    def cancel(self, rid, t):
        self.drain(t)
        for i, entry in enumerate(self.queue):
            if entry[0] == rid:
                self.queue.pop(i)
                self.drain(t)
                return "refunded"
        return "none"


class FixedStore(Model):
    """Cancellation 'if-last' (Redis): a reservation is written at once as the buckets will be right after its grant,
    stamped with its due time; while that time lies ahead everyone queues behind it. Cancelling puts back the state
    from before it if nothing was written since; otherwise its tokens stay spent."""

    def __init__(self, limit, unix0=0):
        super().__init__(limit, unix0)
        self.at = 0  # the state's time: in the future while someone waits
        self.written = {}  # rid -> (before, after, due)

    def snapshot(self):
        return (self.at, tuple(self.state))

    def queued(self, t, cost):
        start = max(t, self.at)
        due = self.due(self.state, start, cost)
        return due, self.take(self.state, due, cost)

    def decide(self, t, cost):
        if self.at <= t:
            return self.plain_at(t, cost)
        due, after = self.queued(t, cost)
        return False, 0, due - t, self.reset(after, due) + due - t

    def plain_at(self, t, cost):
        allowed, rem, wait, reset = self.plain(t, cost)
        if allowed:
            self.at = t
        return allowed, rem, wait, reset

    def reserve(self, rid, t, cost, max_wait):
        waiting = self.at > t
        if not waiting and all(h >= cost for h in self.held(t)):
            return ("ready",) + self.plain_at(t, cost)[1:]
        if not waiting:
            _, rem, wait, reset = self.plain(t, cost)
        due, after = self.queued(t, cost)
        assert due % 1000 == 0, "a reservation's due time must be a whole microsecond for Redis to agree: %d" % due
        if due - t > max_wait:
            return ("refused", rem, wait, reset) if not waiting else ("refused", 0, due - t, self.reset(after, due) + due - t)
        before = self.snapshot()
        self.state, self.at = after, due
        self.written[rid] = (before, self.snapshot(), due)
        return "waiting", 0, due - t, self.reset(after, due) + due - t

    def cancel(self, rid, t):
        if rid not in self.written or self.written[rid][2] <= t:
            return "none"
        before, after, _ = self.written.pop(rid)
        if self.snapshot() != after:
            return "kept"
        self.at, self.state = before[0], list(before[1])
        return "refunded"


def run(store, ops):
    """Lines for `ops`: ("decide", t, cost), ("reserve", t, cost, max_wait) or ("cancel", t, n), n the n-th reserve."""
    lines = []
    reserves = 0
    for op in ops:
        if op[0] == "decide":
            _, t, cost = op
            allowed, rem, wait, reset = store.decide(t, cost)
            lines.append(f"{t} {cost} -> {'allowed' if allowed else 'refused'} {rem} {wait} {reset}")
        elif op[0] == "reserve":
            _, t, cost, max_wait = op
            reserves += 1
            outcome, rem, wait, reset = store.reserve(reserves, t, cost, max_wait)
            lines.append(f"{t} reserve {cost} {max_wait} -> {outcome} {rem} {wait} {reset}")
        else:
            _, t, n = op
            lines.append(f"{t} cancel {n} -> {store.cancel(n, t)}")
    return lines


def reservation_scenarios(limit, ops, unix0=0):
    """One scenario if both cancellations give the same lines, else one for each, marked with what it needs."""
    exact = run(QueueStore(limit, unix0), ops)
    fixed = run(FixedStore(limit, unix0), ops)
    head = ["limit " + limit] + ([f"unix {unix0}"] if unix0 else [])
    if exact == fixed:
        return head + exact + [""]
    return head + ["cancels exact"] + exact + [""] + head + ["cancels if-last"] + fixed + [""]


def random_reservations(rng, limit, count):
    buckets = parse(limit)
    max_cost = min(b.burst for b in buckets)
    shortest = min(b.interval or math.ceil(1 / b.rate) for b in buckets)
    t, ops, reserves = 0, [], 0
    waiting = QueueStore(limit)  # only to choose cancels of reservations still waiting in process
    for _ in range(count):
        t += rng.choice([0, 0, 1, 2]) * shortest // 2 // 1000 * 1000 + rng.choice([0, 1000])
        kind = rng.random()
        if kind < 0.4:
            ops.append(("decide", t, rng.randint(1, max_cost)))
            waiting.decide(t, ops[-1][2])
        elif kind < 0.8:
            reserves += 1
            ops.append(("reserve", t, rng.randint(1, max_cost), rng.choice([0, shortest, 10 * shortest, 10**12])))
            waiting.reserve(reserves, t, ops[-1][2], ops[-1][3])
        else:
            waiting.drain(t)
            if waiting.queue:
                n = rng.choice(waiting.queue)[0]
                ops.append(("cancel", t, n))
                waiting.cancel(n, t)
    return ops


def scenario(limit, requests, unix0=0):
    buckets = parse(limit, unix0)
    lines = ["limit " + limit] + ([f"unix {unix0}"] if unix0 else [])
    for t, cost in requests:
        allowed, remaining, wait, reset = decide(buckets, t, cost)
        lines.append(f"{t} {cost} -> {'allowed' if allowed else 'refused'} {remaining} {wait} {reset}")
    return lines


def main():
    out = [
        "# Throttle token-bucket test vectors. Generated by spec/gen-vectors.py from an exact-fraction reference model;",
        "# run against BucketMath (throttle-core) and the Redis Lua script, unchanged.",
        "# A scenario starts with 'limit <text>' (the Limit grammar) and a full bucket at t=0. Each line after it is one",
        "# request: <t_ns> <cost> -> <allowed|refused> <remaining> <wait_ns> <reset_ns>. Times are non-decreasing",
        "# nanoseconds since the bucket was created, all whole microseconds. Interval refill boundaries are multiples of",
        "# the interval in Unix time (so that every process and Redis agree where they lie): a line 'unix <ns>' after",
        "# the limit gives the Unix time at t=0 (0 when absent, so boundaries are multiples of the interval since t=0).",
        "# Reservations: '<t_ns> reserve <cost> <max_wait_ns> -> <ready|waiting|refused> <remaining> <wait_ns> <reset_ns>'",
        "# (waiting: granted, may proceed after the wait; refused: not granted, nothing taken), and",
        "# '<t_ns> cancel <n> -> <refunded|kept|none>' cancels the scenario's n-th reserve: refunded (cancelled, its",
        "# tokens given back: the limiter is as if it had never been made), kept (cancelled, its tokens stay spent), none",
        "# (not cancelled: it was ready, or never granted). A line 'cancels exact' or 'cancels if-last' after the limit",
        "# restricts a scenario to the stores whose cancellation is such (KeyedRateLimiter.Cancellation); the others hold",
        "# for every store.",
        "",
    ]
    # Hand-checkable scenarios first.
    hand = [
        ("3/s burst 1", [(0, 1), (0, 1), (333_333_000, 1), (333_334_000, 1), (666_667_000, 1), (1_000_000_000, 1)]),
        ("10/s burst 5", [(0, 5), (0, 1), (100_000_000, 1), (150_000_000, 1), (1_000_000_000, 3), (1_000_000_000, 3)]),
        ("100/s", [(0, 100), (0, 1), (10_000_000, 1), (10_000_000, 1), (5_000_000_000, 100)]),
        ("4/s every 250ms", [(0, 4), (1_000, 1), (249_999_000, 1), (250_000_000, 1), (250_000_000, 1), (999_999_000, 4), (1_000_000_000, 3)]),
        ("6000/min burst 10", [(0, 10), (5_000_000, 1), (10_000_000, 1), (10_000_000, 1)]),
        ("2/s and 3/min", [(0, 2), (0, 1), (500_000_000, 1), (1_000_000_000, 1), (1_000_000_000, 1), (20_000_000_000, 1)]),
        ("1/day", [(0, 1), (1_000_000, 1), (86_400_000_000_000, 1)]),
        ("1000000000/s burst 1000", [(0, 1000), (1_000, 1000), (2_000, 999), (2_000, 2)]),
        ("7/s burst 3", [(0, 3), (142_857_000, 1), (142_858_000, 1), (500_000_000, 2)]),
        ("5/10s burst 2 every 2s", [(0, 2), (1_999_999_000, 1), (2_000_000_000, 1), (2_000_000_000, 1), (9_000_000_000, 2)]),
    ]
    for limit, reqs in hand:
        out += scenario(limit, reqs) + [""]
    rng = random.Random(20261123)
    limits = ["3/s burst 2", "10/s burst 5", "7/s", "100/s burst 20", "999/s burst 10", "4/s every 250ms",
              "12/min every 5s", "10/s and 50/min", "5/s burst 2 and 20/min every 15s", "1000/h burst 3",
              "33/s burst 7", "1/ms burst 4"]
    for limit in limits:
        buckets = parse(limit)
        max_cost = min(b.burst for b in buckets)
        shortest = min(b.interval or math.ceil(1 / b.rate) for b in buckets)
        t = 0
        reqs = []
        for _ in range(40):
            t += rng.choice([0, 0, 1, 2, 3]) * shortest // 2 // 1000 * 1000 + rng.choice([0, 1000, 7000])
            reqs.append((t, rng.randint(1, max_cost)))
        out += scenario(limit, reqs) + [""]
    # Reservations and cancellations, by hand: due times are whole microseconds, as Redis counts them.
    hand_reservations = [
        ("10/s burst 1", [("decide", 0, 1), ("reserve", 0, 1, 10**9), ("reserve", 0, 1, 10**9),
                          ("decide", 50_000_000, 1), ("cancel", 60_000_000, 2), ("reserve", 70_000_000, 1, 50_000_000),
                          ("decide", 100_000_000, 1), ("cancel", 100_000_000, 1), ("reserve", 200_000_000, 1, 0),
                          ("reserve", 200_000_000, 1, 100_000_000), ("cancel", 250_000_000, 5),
                          ("decide", 250_000_000, 1)]),
        ("10/s burst 1", [("decide", 0, 1), ("reserve", 0, 1, 10**9), ("reserve", 0, 1, 10**9),
                          ("reserve", 0, 1, 10**9), ("cancel", 10_000_000, 1), ("decide", 10_000_000, 1),
                          ("decide", 150_000_000, 1), ("decide", 250_000_000, 1), ("decide", 350_000_000, 1)]),
        ("10/s burst 5", [("decide", 0, 5), ("reserve", 0, 5, 10**9), ("reserve", 100_000_000, 1, 10**9),
                          ("decide", 100_000_000, 1), ("cancel", 200_000_000, 2), ("decide", 200_000_000, 1),
                          ("cancel", 300_000_000, 1), ("decide", 300_000_000, 3), ("decide", 300_000_000, 1)]),
        ("4/s every 250ms", [("decide", 0, 4), ("reserve", 1_000, 2, 10**9), ("reserve", 1_000, 1, 10**8),
                             ("reserve", 2_000, 1, 10**9), ("decide", 300_000_000, 1), ("cancel", 300_000_000, 3),
                             ("decide", 600_000_000, 1)]),
        ("2/s burst 2 and 30/min", [("decide", 0, 2), ("reserve", 0, 1, 10**10), ("reserve", 0, 2, 10**10),
                                    ("decide", 1_000_000, 1), ("cancel", 2_000_000, 2), ("reserve", 3_000_000, 1, 10**9),
                                    ("reserve", 4_000_000, 1, 10**10), ("cancel", 5_000_000, 3),
                                    ("decide", 4_000_000_000, 1)]),
    ]
    for limit, ops in hand_reservations:
        out += reservation_scenarios(limit, ops)
    # Interval boundaries on the Unix clock, for buckets created between two boundaries (2024-10-04 plus a phase).
    day = 20_000 * 86_400 * 10**9
    out += scenario("4/s every 250ms", [(0, 4), (1_000, 1), (149_999_000, 1), (150_000_000, 1), (150_000_000, 1),
                                        (899_999_000, 3), (900_000_000, 3)], day + 100_000_000) + [""]
    out += scenario("12/min every 5s burst 3", [(0, 3), (1_999_999_000, 1), (2_000_000_000, 1), (2_000_000_000, 1),
                                                (6_999_999_000, 1), (12_000_000_000, 3)], day + 3_000_000_000) + [""]
    out += reservation_scenarios("4/s every 250ms", [("decide", 0, 4), ("reserve", 1_000, 2, 10**9),
                                                     ("reserve", 2_000, 1, 10**9), ("cancel", 100_000_000, 2),
                                                     ("decide", 400_000_000, 1)], day + 200_000_000)
    for limit, unix0 in [("5/s burst 2 and 20/min every 15s", day + 7_500_000_000),
                         ("4/s every 250ms", day + 123_456_000), ("12/min every 5s", day + 4_999_999_000)]:
        buckets = parse(limit, unix0)
        max_cost = min(b.burst for b in buckets)
        shortest = min(b.interval or math.ceil(1 / b.rate) for b in buckets)
        t, reqs = 0, []
        for _ in range(30):
            t += rng.choice([0, 1, 2, 3]) * shortest // 2 // 1000 * 1000 + rng.choice([0, 1000, 7000])
            reqs.append((t, rng.randint(1, max_cost)))
        out += scenario(limit, reqs, unix0) + [""]
    for limit in ["10/s burst 3", "100/s burst 5 and 1000/min", "4/s every 250ms", "1000/s burst 10",
                  "2/s burst 4 and 30/min every 10s"]:
        for _ in range(2):
            out += reservation_scenarios(limit, random_reservations(rng, limit, 40))
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
