--[[
Throttle's token bucket on Redis: BucketMath.decide of throttle-core, as one atomic script.

How is it designed, and why?

The math is the core's (read the essay atop BucketMath.java): a bucket's state is its level, the credits consumed
so far, and a request of cost c passes when every bucket of the limit holds c tokens, taking them from all or none.
What differs is where numbers live: Lua's numbers are IEEE doubles, exact for integers only below 2^53. The script
is written so that every number it handles is an integer below 2^53, so every decision is exact, like the core's.

UNITS. Time is in whole microseconds: Redis TIME gives them (seconds * 10^6 + microseconds is about 1.8e15 today
and stays below 2^52 until the year 2112); tests pass an explicit time instead. A greedy bucket of rate
amount/period is written in lowest terms a/p tokens per microsecond, and counted in credits: a microsecond is worth
a credits and a token costs p credits (3/s: a = 3, p = 10^6). An interval bucket gains k tokens at each boundary of
I microseconds, boundaries at multiples of I since time 0 (the Unix epoch: Redis TIME, or the Unix time of a
test's clock), as in the core; one token is one credit (a = k,
p = 1). The capacity C = burst * p. The caller (Java) checks when it builds a limiter that C <= 2^51 and that the
time to fill an empty bucket is at most 2^51 microseconds, and refuses other limits with a message.

THE STATE, RELATIVE TO TIME. Absolute credits (t * a) would pass 2^53 at once, so a key holds (t, L): the time t of
its last write and its level L relative to z(t), the credits produced up to t, packed as two little-endian doubles
(16 bytes; both are integers below 2^53, so the doubles hold them exactly). Then L lies in [-C, 0] (-C: full;
0: empty), and stays there: a waiting reservation is written at the time it will be ready (see below), never as a
negative balance. On each call the level is rebased to the present:

    L := max(L - produced(t_last, now), -C)

computed without a product that could overflow: after a long idle time the bucket is full, which the script knows by
comparing the elapsed steps with ceil((L + C) / a), and only otherwise multiplies (steps * a < L + C + a).

INVARIANT. Every number is an integer of magnitude below 2^53: times below 2^53 microseconds, levels and costs in
credits within [-C, C] (C <= 2^51), products of a step count and a rate only when below L + C + a, and conversions
to nanoseconds split as (microseconds, nanoseconds 0..999) so that the Java side multiplies by 1000 in 64 bits.
Divisions use divmod below: a double quotient floored and corrected by one, so quotient and remainder are exact.

THE DECISION (the core's BucketMath.decide, relative to z(now) = 0):

    base  = L (rebased)             next = base + c * p          allow = next <= 0 for every bucket
    remaining = min over buckets of floor(-level / p), level = next if allowed, else base
    wait      = max over refusing buckets of the time until z reaches next         (0 when allowed)
    reset     = max over buckets of the time until z reaches level + C             (the bucket is full again)

Times are exact rationals of microseconds, reported rounded up to the nanosecond, as the core reports them: so the
shared table spec/bucket-vectors.txt (whole-microsecond times, nanosecond waits) passes unchanged.

WAITING (reservations). A reservation whose wait is at most the maximum allowed is granted at once and written as
the state the core's queue simulates: granted at its due time (the wait, rounded up to a whole microsecond), that is
(due, L') with L' = max(base - produced(now, due), -C) + c * p, which is at most 0. While a key's time lies in the
future, somebody is waiting: every request is refused or queued behind (first come, first served), with its wait
counted from that time. Cancelling restores the state from before the reservation if the key still holds the state
the reservation wrote (no later reservation on it); otherwise the tokens stay spent and the limit still holds.

KEYS AND TTL. One key per bucket of the limit (KEYS, all in one Cluster slot thanks to a {hash tag}). Each key
expires when its bucket is full again: a missing key is a full bucket, so no key outlives its use. ARGV[4] raises
the TTL for tests whose injected clock is not Redis's.

ARGV[1] packs the numbers as little-endian doubles (one argument is much cheaper for Redis than ten): op (1 decide,
2 decide answering the time, 3 reserve, 4 cancel, 5 estimate: the decision without writing anything, 6 several
decisions in order, each on its own group of keys, whose costs ARGV[2] packs as doubles; cost is then their
count), cost, now in microseconds (-1 for Redis TIME), minimum TTL in
ms, maximum wait (microseconds, then the extra nanoseconds 0..999), then a, p, C, I for each key (I = 0: greedy).
For a cancel, ARGV[2j] and ARGV[2j + 1] are key j's state before the reservation ('' for none) and the state it
must still hold.

RETURNS for a decision {flag, remaining, wait_ns, reset_ns} (flag 1 allowed, 0 refused), or, when a time reaches
2^53 nanoseconds (104 days), {flag + 10, remaining, wait_us, wait_ns, reset_us, reset_ns, now_us}; op 2 always
answers the long form (for tests that need Redis's time). A reservation answers the long form, now_us, and for
flag 2 (reserved, waiting) the state of each key before and after, to cancel it (flag 1: ready at once; 0: not
granted). For a cancel, {1} when the tokens went back and {0} when they could not. Op 6 answers each decision's
reply, short or long, one after the other (a reader tells them apart by the flag: below 10, short). (Every element of a reply costs
Redis time, hence the short form.)
]]

local floor, tonumber, pack, unpack, call = math.floor, tonumber, struct.pack, struct.unpack, redis.call

local function divmod(x, y) -- x >= 0, y > 0, integers below 2^53: exact floor quotient and remainder
  local q = floor(x / y)
  local r = x - q * y
  if r < 0 then
    q = q - 1
    r = r + y
  elseif r >= y then
    q = q + 1
    r = r - y
  end
  return q, r
end

local DECIDE, RESERVE, CANCEL, ESTIMATE, DECIDE_MANY = 1, 3, 4, 5, 6
local A = ARGV[1]
local op, cost, now, minTtl, maxWaitUs, maxWaitNs = unpack('<dddddd', A)
if now < 0 then
  local time = call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local n = (#A - 48) / 32 -- buckets of the limit: four numbers each after the six above
-- Per bucket j: P[4j-3..4j] = a, p, C, I; S[j] the key's raw state ('' if none); T[j], L[j] its time and level.
local P, S, T, L = {}, {}, {}, {}
for j = 1, n do
  local o = 4 * j
  P[o - 3], P[o - 2], P[o - 1], P[o] = unpack('<dddd', A, 17 + 8 * o)
end
-- The decision's keys are KEYS[base + 1 .. base + n] (op 6 decides for several groups of keys, one after the other).
local base = 0
-- The present of those keys: no earlier than any key's time (a key's time is in the future while someone waits);
-- queued: someone is waiting, so nobody passes now, whatever the buckets hold.
local t, queued = now, false

-- Steps of refill between two times: microseconds (greedy) or boundaries crossed (interval).
local function steps(j, from, to)
  local i = P[4 * j]
  if i == 0 then
    return to - from
  end
  return divmod(to, i) - divmod(from, i)
end

-- The level of bucket j after `s` steps from level `l`: max(l - s * a, -C), without an overflowing product.
local function refill(j, l, s)
  local a, c = P[4 * j - 3], P[4 * j - 1]
  local full, rest = divmod(l + c, a)
  if rest > 0 then
    full = full + 1
  end
  if s >= full then
    return -c
  end
  return l - s * a
end

-- The time from `from` until bucket j has produced `need` more credits, as (microseconds, nanoseconds 0..999),
-- rounded up to the nanosecond; (0, 0) when need <= 0. FAR (2^52 microseconds) stands for "too far to matter".
local FAR = 4503599627370496
local function timeTo(j, need, from)
  if need <= 0 then
    return 0, 0
  end
  local a, i = P[4 * j - 3], P[4 * j]
  if i == 0 then
    local us, r = divmod(need, a)
    local ns, rest = divmod(r * 1000, a)
    if rest > 0 then
      ns = ns + 1
    end
    if ns == 1000 then
      return us + 1, 0
    end
    return us, ns
  end
  local boundaries, r = divmod(need, a)
  if r > 0 then
    boundaries = boundaries + 1
  end
  if boundaries > floor(FAR / i) then
    return FAR, 0
  end
  local _, phase = divmod(from, i)
  return boundaries * i - phase, 0
end

local function later(u1, n1, u2, n2) -- the later of two (microseconds, nanoseconds) times
  if u1 > u2 or (u1 == u2 and n1 > n2) then
    return u1, n1
  end
  return u2, n2
end

-- Each bucket's time to full as leftAndFull last computed it, for the level FL[j] at time FT (it depends on
-- nothing else): the TTL of the write that usually follows is the same time, not computed twice.
local FU, FN, FL, FT = {}, {}, {}, -1

-- Writes bucket j's level at time `at`, expiring when it is full again (its own time to full, from now).
local function store(j, at, l)
  local us, ns
  if at == FT and l == FL[j] then
    us, ns = FU[j], FN[j]
  else
    us, ns = timeTo(j, l + P[4 * j - 1], at)
  end
  local ms, rest = divmod(us + (at - now), 1000)
  if rest > 0 or ns > 0 then
    ms = ms + 1
  end
  if ms < minTtl then
    ms = minTtl
  end
  local value = pack('<dd', at, l)
  call('SET', KEYS[base + j], value, 'PX', ms)
  return value
end

-- A decision's reply, written into `out` after its first k elements: short while both times are below 2^53
-- nanoseconds (9007199254740 microseconds). Returns the new length of out.
local function reply(out, k, flag, remaining, waitUs, waitNs, resetUs, resetNs)
  if (op == DECIDE or op == ESTIMATE or op == DECIDE_MANY) and waitUs < 9007199254740 and resetUs < 9007199254740 then
    out[k + 1], out[k + 2], out[k + 3], out[k + 4] = flag, remaining, waitUs * 1000 + waitNs, resetUs * 1000 + resetNs
    return k + 4
  end
  out[k + 1], out[k + 2], out[k + 3], out[k + 4], out[k + 5], out[k + 6], out[k + 7] =
    flag + 10, remaining, waitUs, waitNs, resetUs, resetNs, now
  return k + 7
end

-- Reads the keys of the current group and rebases every bucket to their present t.
local function load()
  t = now
  for j = 1, n do
    local s = call('GET', KEYS[base + j])
    if s then
      T[j], L[j] = unpack('<dd', s)
      if T[j] > t then
        t = T[j]
      end
      S[j] = s
    else
      T[j], S[j] = nil, ''
    end
  end
  for j = 1, n do
    if T[j] then
      L[j] = refill(j, L[j], steps(j, T[j], t))
    else
      L[j] = -P[4 * j - 1]
    end
  end
  queued = t > now
end

if op ~= DECIDE_MANY then
  load()
end

if op == CANCEL then
  -- Cancel: only if every key still holds what the reservation wrote; then put back what was there before.
  for j = 1, n do
    if S[j] ~= ARGV[2 * j + 1] then
      return {0}
    end
  end
  for j = 1, n do
    local before = ARGV[2 * j]
    if before == '' then
      call('DEL', KEYS[j])
    else
      local at, l = unpack('<dd', before)
      if at < now then
        l = refill(j, l, steps(j, at, now))
        at = now
      end
      store(j, at, l)
    end
  end
  return {1}
end

-- With the buckets at `levels` at time t: the tokens left (the fewest of any bucket) and the time until every one
-- is full again.
local function leftAndFull(levels)
  local remaining = -1
  local resetUs, resetNs = 0, 0
  for j = 1, n do
    local left = divmod(-levels[j], P[4 * j - 2])
    if remaining < 0 or left < remaining then
      remaining = left
    end
    local us, ns = timeTo(j, levels[j] + P[4 * j - 1], t)
    FU[j], FN[j], FL[j] = us, ns, levels[j]
    resetUs, resetNs = later(resetUs, resetNs, us, ns)
  end
  FT = t
  return remaining, resetUs, resetNs
end

-- The decision for a cost c against the buckets as they are (L, rebased to t), writing nothing: flag (1 allowed, 0
-- refused), remaining, wait, reset, each bucket's level if allowed (N); and for a refusal to be queued (queued, or
-- a reservation), the due time and each bucket's level right after that grant.
local N = {} -- decide's levels if allowed: read (or copied) before the next decision
local function decide(c)
  local allowed = not queued
  for j = 1, n do
    N[j] = L[j] + c * P[4 * j - 2]
    if N[j] > 0 then
      allowed = false
    end
  end

  if allowed then
    local remaining, resetUs, resetNs = leftAndFull(N)
    return 1, remaining, 0, 0, resetUs, resetNs, N
  end

  -- Refused now. The wait until every bucket holds the cost (counted from now, so it includes any queue ahead).
  local waitUs, waitNs = 0, 0
  for j = 1, n do
    waitUs, waitNs = later(waitUs, waitNs, timeTo(j, N[j], t))
  end
  waitUs = waitUs + (t - now)

  -- The request as the core's queue simulates it: granted at `due`, when every bucket holds its cost (the wait
  -- rounded up to a whole microsecond), each bucket as it will be right after that grant. A reservation is written
  -- so; while others wait, a refusal reports the reset as if it had queued too, as the core does.
  local dueUs = waitUs
  if waitNs > 0 then
    dueUs = dueUs + 1
  end
  local due = now + dueUs
  local after = {}
  local queuedUs, queuedNs = 0, 0
  if queued or op == RESERVE then
    for j = 1, n do
      after[j] = refill(j, L[j], steps(j, t, due)) + c * P[4 * j - 2]
      queuedUs, queuedNs = later(queuedUs, queuedNs, timeTo(j, after[j] + P[4 * j - 1], due))
    end
    queuedUs = queuedUs + dueUs -- counted from due above; from now here
  end

  -- Refused with nobody waiting: the buckets as they are (t is now).
  local remaining, resetUs, resetNs = 0, queuedUs, queuedNs
  if not queued then
    remaining, resetUs, resetNs = leftAndFull(L)
  end
  return 0, remaining, waitUs, waitNs, resetUs, resetNs, N, due, after, queuedUs, queuedNs
end

if op == DECIDE_MANY then
  -- Several decisions, in the order given, decision i on KEYS[(i - 1) * n + 1 .. i * n]: what as many single
  -- decisions at this time would answer, one after the other. A decision on the keys of the one before it goes on
  -- from the levels that one left, and the keys are written when the next decision is on other keys, or at the end
  -- (what a single decision would read back); a key met again later is read afresh. ARGV[2] packs the costs;
  -- `cost` is their count.
  local out, k = {}, 0
  local dirty = false
  local function flush()
    if dirty then
      for j = 1, n do
        store(j, t, L[j])
      end
      dirty = false
    end
  end
  for i = 1, cost do
    local same = i > 1
    for j = 1, n do
      if same and KEYS[i * n - n + j] ~= KEYS[base + j] then
        same = false
      end
    end
    if not same then
      flush()
      base = (i - 1) * n
      load()
    end
    local flag, remaining, waitUs, waitNs, resetUs, resetNs, N = decide(unpack('<d', ARGV[2], 8 * i - 7))
    if flag == 1 then
      for j = 1, n do
        L[j] = N[j]
      end
      dirty = true
    end
    k = reply(out, k, flag, remaining, waitUs, waitNs, resetUs, resetNs)
  end
  flush()
  return out
end

local flag, remaining, waitUs, waitNs, resetUs, resetNs, N, due, after, queuedUs, queuedNs = decide(cost)
if flag == 1 then
  if op ~= ESTIMATE then
    for j = 1, n do
      store(j, t, N[j])
    end
  end
  local out = {}
  reply(out, 0, 1, remaining, 0, 0, resetUs, resetNs)
  return out
end
if op ~= RESERVE then
  local out = {}
  reply(out, 0, 0, remaining, waitUs, waitNs, resetUs, resetNs)
  return out
end
if waitUs > maxWaitUs or (waitUs == maxWaitUs and waitNs > maxWaitNs) or waitUs >= FAR then
  return {10, remaining, waitUs, waitNs, resetUs, resetNs, now} -- not granted: what a decision would answer
end
local result = {12, 0, waitUs, waitNs, queuedUs, queuedNs, now}
for j = 1, n do
  result[6 + 2 * j] = S[j]
  result[7 + 2 * j] = store(j, due, after[j])
end
return result
