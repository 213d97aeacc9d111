#!/usr/bin/env python3
"""bench/new_conn.py PORT BODY N: N fresh TLS connections to 127.0.0.1:PORT, one HELD POST of
BODY on each, first from a client socket that keeps Nagle's algorithm (no TCP_NODELAY, as
many embedded HTTP stacks leave it), then from one with TCP_NODELAY (curl, Go, urllib3).
Python's ssl is OpenSSL. Prints one line per client:
  MODE handshake_p50_ms handshake_p90_ms answer_p50_ms answer_p90_ms failures
handshake: connect and TLS handshake; answer: the request sent until the whole answer is in
(Content-Length). A connection that fails counts in failures, not in the times."""
import socket
import ssl
import sys
import time


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def one(port, request, ctx, nodelay):
    t0 = time.perf_counter()
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    if nodelay:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw)
    t1 = time.perf_counter()
    s.sendall(request)
    got = b""
    while b"\r\n\r\n" not in got:
        d = s.recv(65536)
        if not d:
            raise OSError("closed before the answer's header")
        got += d
    head, _, rest = got.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise OSError(head.split(b"\r\n")[0].decode(errors="replace"))
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if length is None:
        raise OSError("no Content-Length")
    while len(rest) < length:
        d = s.recv(65536)
        if not d:
            raise OSError("closed within the answer")
        rest += d
    t2 = time.perf_counter()
    s.close()
    return (t1 - t0) * 1000, (t2 - t1) * 1000


def main():
    port, body_path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    body = open(body_path, "rb").read()
    request = (b"POST /held HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/held+xml\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # loopback, the bench's own self-signed certificate
    for mode, nodelay in (("nagle", False), ("nodelay", True)):
        hs, ans, failures = [], [], 0
        for _ in range(n):
            try:
                h, a = one(port, request, ctx, nodelay)
            except OSError:
                failures += 1
                continue
            hs.append(h)
            ans.append(a)
        print("%s %.2f %.2f %.2f %.2f %d" % (mode, pct(hs, 0.5), pct(hs, 0.9), pct(ans, 0.5),
                                            pct(ans, 0.9), failures))


if __name__ == "__main__":
    main()
