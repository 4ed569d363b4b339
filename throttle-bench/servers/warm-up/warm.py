#!/usr/bin/env python3
"""Warms a freshly started JVM server (throttle gateway) before a bench case measures a client against it.

A JVM serves its first few thousand requests from interpreted and lightly compiled code: measured here, the
gateway answered at 16 requests/s in 2.8 ms (p50) while cold and in 0.6 ms once warm, and a strict limit decides
on arrival, so the spread of a cold server's answers is noise that a client reads as its own jitter. A server in
use is warm. Each of the ADDRESSES loopback addresses (127.0.0.2, 127.0.0.3, ..., 127.0.1.2, ...) is a key of its
own for a rule keyed by address, so the warm-up spends nothing of the bucket of 127.0.0.1, where the client runs.

usage: warm.py PORT [REQUESTS] [ADDRESSES]    (defaults: 60000 requests over 600 addresses)
Prints the statuses it got, e.g. "warm-up: 60000 requests, 200: 48338, 429: 11662" (a '20/s burst 1' gateway).
"""
import socket
import sys
from collections import Counter

port = int(sys.argv[1])
requests = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
addresses = int(sys.argv[3]) if len(sys.argv) > 3 else 600

conns = []
for i in range(addresses):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.%d.%d" % (i // 250, 2 + i % 250), 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conns.append([s, b""])

statuses = Counter()


def answer(c):
    """Reads one response (status line, fields, a Content-Length body) from the connection's buffer."""
    s, buf = c
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(buf) >= end + 4 + length:
                c[1] = buf[end + 4 + length:]
                return head[0].split(" ")[1]
        data = s.recv(65536)
        if not data:
            raise SystemExit("warm-up: the server closed a connection")
        buf += data


sent = 0
while sent < requests:
    batch = conns[: min(len(conns), requests - sent)]
    for c in batch:  # one request on each connection, then each answer
        c[0].sendall(b"GET /warm-up/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sent)
        sent += 1
    for c in batch:
        statuses[answer(c)] += 1
for s, _ in conns:
    s.close()
print("warm-up: %d requests, %s" % (requests, ", ".join("%s: %d" % kv for kv in sorted(statuses.items()))))
