#!/usr/bin/env python3
"""Pipelined HELD requests on one TLS connection, read through a small receive window.

usage: held_pipeline.py HOST PORT CAFILE COUNT

Sends COUNT locationRequests back to back on one kept-alive connection whose receive
buffer is 4 KB, writing while the socket takes them and reading only when it does not (4 KB
at a time), so that lisd's writes of the answers keep meeting a full socket (EAGAIN) at
every point of a record. Prints
"answers=N complete=M" on stdout: N HTTP responses read, M of them 200 with a whole
locationResponse of the length Content-Length says. Exit 0 when it read COUNT responses,
1 otherwise (the reason on stderr)."""
import selectors
import socket
import ssl
import sys
import time

BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<locationRequest xmlns="urn:ietf:params:xml:ns:geopriv:held">'
        b'<locationType exact="false">civic</locationType></locationRequest>\n')


def main():
    host, port, cafile, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    req = (b'POST /held HTTP/1.1\r\nHost: ' + host.encode() +
           b'\r\nContent-Type: application/held+xml\r\nContent-Length: ' +
           str(len(BODY)).encode() + b'\r\n\r\n' + BODY)
    out = req * count
    raw = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    raw.settimeout(30)
    raw.connect((host, port))
    ctx = ssl.create_default_context(cafile=cafile)
    s = ctx.wrap_socket(raw, server_hostname=host)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    sent, buf, answers, complete = 0, b'', 0, 0
    deadline = time.monotonic() + 120
    while answers < count and time.monotonic() < deadline:
        # Write while the socket takes requests; read only when it does not (or all are
        # out), and then at most 4 KB: lisd's answers pile up in its socket meanwhile.
        if sent < len(out):
            try:
                sent += s.send(out[sent:sent + 16384])
                continue
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        # Decrypted bytes the SSL object holds back (a record read in part) make the socket
        # no more readable: without this test the reader stalled until lisd's idle timeout
        # closed the connection, 30 s later (1 run in 4).
        if not s.pending() and not sel.select(1):
            continue
        for _ in range(4):
            try:
                chunk = s.recv(1024)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if chunk == b'':
                print('connection closed after %d answers' % answers, file=sys.stderr)
                deadline = 0
                break
            buf += chunk
        # whole responses off the front of buf
        while True:
            end = buf.find(b'\r\n\r\n')
            if end < 0:
                break
            head = buf[:end].decode('latin-1').split('\r\n')
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(':')
                if name.strip().lower() == 'content-length':
                    length = int(value)
            if len(buf) < end + 4 + length:
                break
            body = buf[end + 4:end + 4 + length]
            buf = buf[end + 4 + length:]
            answers += 1
            if head[0].startswith('HTTP/1.1 200') and body.rstrip().endswith(
                    b'</locationResponse>') and body.startswith(b'<?xml'):
                complete += 1
    print('answers=%d complete=%d' % (answers, complete))
    if answers != count:
        print('read %d of %d answers; %d bytes sent of %d' % (answers, count, sent, len(out)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
