#!/usr/bin/env python3
"""A burst of connections, as a client opening its pool: COUNT TCP connections to lisd opened
back to back, then on each a TLS handshake and one HELD request, answers read.

usage: held_burst.py HOST PORT CAFILE COUNT

Prints "answers=N" on stdout: N requests answered 200 with a HELD document (a
locationResponse or a HELD error). Exit 0 when
all COUNT were, 1 otherwise (the reason on stderr)."""
import socket
import ssl
import sys

BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<locationRequest xmlns="urn:ietf:params:xml:ns:geopriv:held">'
        b'<locationType exact="false">civic</locationType></locationRequest>\n')


def read_answer(s):
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = s.recv(4096)
        if not chunk:
            return None
        buf += chunk
    head, _, body = buf.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(':')
        if name.strip().lower() == 'content-length':
            length = int(value)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            return None
        body += chunk
    return lines[0], body


def main():
    host, port, cafile, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    req = (b'POST /held HTTP/1.1\r\nHost: ' + host.encode() +
           b'\r\nContent-Type: application/held+xml\r\nContent-Length: ' +
           str(len(BODY)).encode() + b'\r\n\r\n' + BODY)
    raws = []
    for _ in range(count):  # every connection first, before any handshake
        raw = socket.create_connection((host, port), timeout=60)
        raws.append(raw)
    ctx = ssl.create_default_context(cafile=cafile)
    conns = [ctx.wrap_socket(raw, server_hostname=host) for raw in raws]
    answers = 0
    for s in conns:
        s.sendall(req)
    for s in conns:
        got = read_answer(s)
        if got and got[0].startswith('HTTP/1.1 200') and \
                b'urn:ietf:params:xml:ns:geopriv:held' in got[1]:
            answers += 1
        else:
            print('bad answer: %r' % (got,), file=sys.stderr)
    for s in conns:
        s.close()
    print('answers=%d' % answers)
    return 0 if answers == count else 1


if __name__ == '__main__':
    sys.exit(main())
