#!/usr/bin/env python3
"""Receivers of lisd's notifications for tests/integration/test_notify.c, on loopback only.
Each writes what it receives to OUT, one JSON object a line, flushed at once:

  notify_sink.py webhook PORT CERT KEY SECRET_FILE OUT
      HTTPS (TLS with CERT/KEY) on 127.0.0.1:PORT; every POST is answered 200 and written as
      {"path", "headers", "body" (parsed JSON), "sig_ok" (X-LIS-Signature is the HMAC-SHA256
      of the body under the first line of SECRET_FILE)}.
  notify_sink.py smtp PORT CERT KEY OUT
      SMTP on 127.0.0.1:PORT that refuses MAIL before STARTTLS (aiosmtpd, require_starttls);
      every message is written as {"mail_from", "rcpt_tos", "tls", "data"}.
  notify_sink.py syslog SOCKET OUT
      a datagram socket at SOCKET; every datagram is written as {"line"}.
"""
import asyncio
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import ssl
import sys


def writer(path):
    f = open(path, 'a', encoding='utf-8')

    def write(obj):
        f.write(json.dumps(obj) + '\n')
        f.flush()
    return write


def webhook(port, cert, key, secret_file, out):
    with open(secret_file, 'rb') as f:
        secret = f.readline().rstrip(b'\r\n')
    write = writer(out)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get('Content-Length', '0'))
            raw = self.rfile.read(n)
            want = 'sha256=' + hmac.new(secret, raw, hashlib.sha256).hexdigest()
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            write({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()},
                   'body': body,
                   'sig_ok': hmac.compare_digest(want, self.headers.get('X-LIS-Signature', ''))})
            self.send_response(200)
            self.send_header('Content-Length', '0')
            self.end_headers()

        def log_message(self, fmt, *args):
            pass

    http.server.HTTPServer.allow_reuse_address = True
    srv = http.server.HTTPServer(('127.0.0.1', port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print('listening', flush=True)
    srv.serve_forever()


def smtp(port, cert, key, out):
    from aiosmtpd.controller import Controller
    write = writer(out)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            write({'mail_from': envelope.mail_from, 'rcpt_tos': envelope.rcpt_tos,
                   'tls': session.ssl is not None,
                   'data': envelope.content.decode('utf-8', 'replace')})
            return '250 OK'

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctl = Controller(Handler(), hostname='127.0.0.1', port=port, tls_context=ctx,
                     require_starttls=True, ready_timeout=30)
    ctl.start()
    print('listening', flush=True)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    ctl.stop()


def syslog(path, out):
    write = writer(out)
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    print('listening', flush=True)
    while True:
        data = s.recv(65536)
        write({'line': data.decode('utf-8', 'replace')})


def main():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == 'webhook':
        webhook(int(args[0]), args[1], args[2], args[3], args[4])
    elif mode == 'smtp':
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
        smtp(int(args[0]), args[1], args[2], args[3])
    elif mode == 'syslog':
        syslog(args[0], args[1])
    else:
        sys.exit('usage: see the top of this file')


if __name__ == '__main__':
    main()
