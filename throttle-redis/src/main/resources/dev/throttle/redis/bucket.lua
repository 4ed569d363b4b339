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
I microseconds, boundaries counted from time 0 (the Unix epoch with Redis TIME); one token is one credit (a = k,
p = 1). The capacity C = burst * p. The caller (Java) checks when it builds a limiter that C <= 2^51 and that the
time to fill an empty bucket is at most 2^51 microseconds, and refuses other limits with a message.

THE STATE, RELATIVE TO TIME. Absolute credits (t * a) would pass 2^53 at once, so a key holds "t L": the time t of
its last write and its level L relative to z(t), the credits produced up to t. Then L lies in [-C, 0] (-C: full;
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
"due L'" with L' = max(base - produced(now, due), -C) + c * p, which is at most 0. While a key's time lies in the
future, somebody is waiting: every request is refused or queued behind (first come, first served), with its wait
counted from that time. Cancelling restores the state from before the reservation if the key still holds the state
the reservation wrote (no later reservation on it); otherwise the tokens stay spent and the limit still holds.

KEYS AND TTL. One key per bucket of the limit (KEYS, all in one Cluster slot thanks to a {hash tag}). Each key
expires when its bucket is full again: a missing key is a full bucket, so no key outlives its use. ARGV[4] raises
the TTL for tests whose injected clock is not Redis's.

ARGV: op ('d' decide, 'r' reserve, 'c' cancel), cost, now in microseconds ('' for Redis TIME), minimum TTL in ms,
maximum wait (microseconds, then the extra nanoseconds 0..999), then a, p, C, I for each key (I = 0: greedy), then
for 'c' the state each key must still hold and the state to restore ('' for none).

RETURNS {flag, remaining, wait_us, wait_ns, reset_us, reset_ns, now_us [, before_1, after_1, ...]}, flag 1 allowed
(or ready at once), 2 reserved (waiting; with the states before and after, to cancel), 0 refused or not granted;
for 'c', {1} when the tokens went back and {0} when they could not.
]]

local function divmod(x, y) -- x >= 0, y > 0, integers below 2^53: exact floor quotient and remainder
  local q = math.floor(x / y)
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

local op = ARGV[1]
local cost = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
else
  now = tonumber(ARGV[3])
end
local minTtl = tonumber(ARGV[4])
local maxWaitUs = tonumber(ARGV[5])
local maxWaitNs = tonumber(ARGV[6])
local n = #KEYS
local rate, unit, cap, interval, saved, stamp, level = {}, {}, {}, {}, {}, {}, {}

-- The present: no earlier than any key's time (a key's time is in the future while someone waits).
local t = now
for j = 1, n do
  local o = 6 + 4 * (j - 1)
  rate[j] = tonumber(ARGV[o + 1])
  unit[j] = tonumber(ARGV[o + 2])
  cap[j] = tonumber(ARGV[o + 3])
  interval[j] = tonumber(ARGV[o + 4])
  local s = redis.call('GET', KEYS[j])
  if s then
    local sp = string.find(s, ' ', 1, true)
    stamp[j] = tonumber(string.sub(s, 1, sp - 1))
    level[j] = tonumber(string.sub(s, sp + 1))
    if stamp[j] > t then
      t = stamp[j]
    end
    saved[j] = s
  else
    saved[j] = ''
  end
end

-- Steps of refill between two times: microseconds (greedy) or boundaries crossed (interval).
local function steps(j, from, to)
  local i = interval[j]
  if i == 0 then
    return to - from
  end
  return divmod(to, i) - divmod(from, i)
end

-- The level of bucket j after `s` steps from level `l`: max(l - s * a, -C), without an overflowing product.
local function refill(j, l, s)
  local room = l + cap[j]
  local full, rest = divmod(room, rate[j])
  if rest > 0 then
    full = full + 1
  end
  if s >= full then
    return -cap[j]
  end
  return l - s * rate[j]
end

-- The time from `from` until bucket j has produced `need` more credits, as (microseconds, nanoseconds 0..999),
-- rounded up to the nanosecond; (0, 0) when need <= 0. FAR (2^52 microseconds) stands for "too far to matter".
local FAR = 4503599627370496
local function timeTo(j, need, from)
  if need <= 0 then
    return 0, 0
  end
  local i = interval[j]
  if i == 0 then
    local us, r = divmod(need, rate[j])
    local ns, rest = divmod(r * 1000, rate[j])
    if rest > 0 then
      ns = ns + 1
    end
    if ns == 1000 then
      return us + 1, 0
    end
    return us, ns
  end
  local boundaries, r = divmod(need, rate[j])
  if r > 0 then
    boundaries = boundaries + 1
  end
  if boundaries > math.floor(FAR / i) then
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

-- Writes bucket j's level at time `at`, expiring when it is full again (its own time to full, from now).
local function store(j, at, l)
  local us, ns = timeTo(j, l + cap[j], at)
  local ms, rest = divmod(us + (at - now), 1000)
  if rest > 0 or ns > 0 then
    ms = ms + 1
  end
  if ms < minTtl then
    ms = minTtl
  end
  local value = string.format('%d %d', at, l)
  redis.call('SET', KEYS[j], value, 'PX', ms)
  return value
end

if op == 'c' then
  -- Cancel: only if every key still holds what the reservation wrote; then put back what was there before.
  local o = 6 + 4 * n
  for j = 1, n do
    if saved[j] ~= ARGV[o + 2 * j] then
      return {0}
    end
  end
  for j = 1, n do
    local before = ARGV[o + 2 * j - 1]
    if before == '' then
      redis.call('DEL', KEYS[j])
    else
      local sp = string.find(before, ' ', 1, true)
      local at = tonumber(string.sub(before, 1, sp - 1))
      local l = tonumber(string.sub(before, sp + 1))
      if at < now then
        l = refill(j, l, steps(j, at, now))
        at = now
      end
      store(j, at, l)
    end
  end
  return {1}
end

-- Rebase every bucket to t.
for j = 1, n do
  if stamp[j] then
    level[j] = refill(j, level[j], steps(j, stamp[j], t))
  else
    level[j] = -cap[j]
  end
end

local queued = t > now -- someone is waiting: nobody passes now, whatever the buckets hold
local allowed = not queued
local next = {}
for j = 1, n do
  next[j] = level[j] + cost * unit[j]
  if next[j] > 0 then
    allowed = false
  end
end

if allowed then
  local remaining = -1
  local resetUs, resetNs = 0, 0
  for j = 1, n do
    local left = divmod(-next[j], unit[j])
    if remaining < 0 or left < remaining then
      remaining = left
    end
    resetUs, resetNs = later(resetUs, resetNs, timeTo(j, next[j] + cap[j], t))
    store(j, t, next[j])
  end
  return {1, remaining, 0, 0, resetUs, resetNs, now}
end

-- Refused now. The wait until every bucket holds the cost (counted from now, so it includes any queue ahead).
local waitUs, waitNs = 0, 0
for j = 1, n do
  waitUs, waitNs = later(waitUs, waitNs, timeTo(j, next[j], t))
end
waitUs = waitUs + (t - now)

if op == 'd' then
  local remaining = -1
  local resetUs, resetNs = 0, 0
  for j = 1, n do
    local left = 0
    if not queued then
      left = divmod(-level[j], unit[j])
    end
    if remaining < 0 or left < remaining then
      remaining = left
    end
    resetUs, resetNs = later(resetUs, resetNs, timeTo(j, level[j] + cap[j], t))
  end
  return {0, remaining, waitUs, waitNs, resetUs + (t - now), resetNs, now}
end

-- Reserve: the queue's simulation of the core. The request is granted at `due`, when every bucket holds its cost;
-- each bucket is written as it will be right after that grant.
local dueUs = waitUs
if waitNs > 0 then
  dueUs = dueUs + 1
end
local due = now + dueUs
local after = {}
local resetUs, resetNs = 0, 0
for j = 1, n do
  after[j] = refill(j, level[j], steps(j, t, due)) + cost * unit[j]
  resetUs, resetNs = later(resetUs, resetNs, timeTo(j, after[j] + cap[j], due))
end
resetUs = resetUs + dueUs -- counted from due above; from now here
if waitUs > maxWaitUs or (waitUs == maxWaitUs and waitNs > maxWaitNs) or waitUs >= FAR then
  return {0, 0, waitUs, waitNs, resetUs, resetNs, now}
end
local result = {2, 0, waitUs, waitNs, resetUs, resetNs, now}
for j = 1, n do
  result[6 + 2 * j] = saved[j]
  result[7 + 2 * j] = store(j, due, after[j])
end
return result
