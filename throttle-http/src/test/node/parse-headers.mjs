// Sends GET requests one after another to a URL and prints, as one JSON array on stdout, what two independent
// parsers make of each response's rate-limit fields:
//   - structured-headers (RFC 9651): every RateLimit* field parsed as a List, a Dictionary and an Item (each may fail);
//   - ratelimit-header-parser (from the express-rate-limit project): the quota it reads (or null).
// Usage: node parse-headers.mjs URL COUNT
import { parseList, parseDictionary, parseItem, Token } from 'structured-headers';
import { parseRateLimit } from 'ratelimit-header-parser';

const [url, countText] = process.argv.slice(2);
const count = Number.parseInt(countText ?? '1', 10);

function bare(v) {
  if (v instanceof Token) return { token: v.toString() };
  if (typeof v === 'string') return { string: v };
  if (typeof v === 'number') return { number: v };
  if (typeof v === 'boolean') return { boolean: v };
  return { other: String(v) };
}

function params(map) {
  const out = {};
  for (const [k, v] of map) out[k] = bare(v).number ?? bare(v);
  return out;
}

function member([value, p]) {
  return Array.isArray(value)
    ? { inner: value.map(member), params: params(p) }
    : { value: bare(value), params: params(p) };
}

function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

function structured(value) {
  return {
    list: attempt(() => parseList(value).map(member)),
    dictionary: attempt(() => Object.fromEntries([...parseDictionary(value)].map(([k, m]) => [k, member(m)]))),
    item: attempt(() => member(parseItem(value))),
  };
}

function quota(headers) {
  const q = parseRateLimit(headers);
  if (!q) return null;
  const n = (x) => (Number.isFinite(x) ? x : null);
  const reset = q.reset instanceof Date && Number.isFinite(q.reset.getTime())
    ? Math.round((q.reset.getTime() - Date.now()) / 1000) : null;
  return { limit: n(q.limit), used: n(q.used), remaining: n(q.remaining), resetSeconds: reset };
}

const results = [];
for (let i = 0; i < count; i++) {
  const response = await fetch(url);
  await response.arrayBuffer();
  const fields = {};
  for (const [name, value] of response.headers) {
    if (name.startsWith('ratelimit') || name.startsWith('x-ratelimit') || name === 'retry-after') {
      fields[name] = { raw: value, ...(name.startsWith('ratelimit') ? structured(value) : {}) };
    }
  }
  results.push({ status: response.status, fields, parsed: quota(response.headers) });
}
process.stdout.write(JSON.stringify(results) + '\n');
