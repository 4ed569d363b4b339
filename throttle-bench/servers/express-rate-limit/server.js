// An Express app limited by express-rate-limit (its default store: a fixed window per client address), for the
// client section of ./scripts/bench. Every request that passes is answered 200 "ok".
//
//   node server.js PORT DIALECT LOG [LIMIT [WINDOW_MS]]
//
// DIALECT is express-rate-limit's `standardHeaders` (draft-6, draft-7 or draft-8); LIMIT requests (default 50) per
// WINDOW_MS (default 1000). LOG is the server's access log, one line per request as the server saw it, written
// before the next request is read: "<end, Unix seconds.ms> <duration, s.ms> <status> <url>", the fields of nginx's
// `$msec $request_time $status $request_uri`, so that one reader serves both.
'use strict';
const fs = require('fs');
const express = require('express');
const { rateLimit } = require('express-rate-limit');

const [port, dialect, logFile, limit = '50', windowMs = '1000'] = process.argv.slice(2);
if (!port || !['draft-6', 'draft-7', 'draft-8'].includes(dialect) || !logFile) {
  console.error('usage: node server.js PORT draft-6|draft-7|draft-8 LOG [LIMIT [WINDOW_MS]]');
  process.exit(2);
}
const log = fs.openSync(logFile, 'a');

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
// The access log comes first, so that it sees the limiter's 429s as well as the 200s.
app.use((req, res, next) => {
  const start = Date.now();
  res.on('finish', () => {
    const end = Date.now();
    fs.writeSync(log, `${(end / 1000).toFixed(3)} ${((end - start) / 1000).toFixed(3)} ${res.statusCode} ${req.originalUrl}\n`);
  });
  next();
});
app.use(rateLimit({ windowMs: Number(windowMs), limit: Number(limit), standardHeaders: dialect, legacyHeaders: false }));
app.use((req, res) => res.type('text/plain').send('ok\n'));

const server = app.listen(Number(port), '127.0.0.1', () => {
  console.log(`express-rate-limit ${limit} per ${windowMs} ms, ${dialect}, on 127.0.0.1:${port}, log ${logFile}`);
});
server.keepAliveTimeout = 60000;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 1000).unref());
}
