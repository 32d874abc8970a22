#!/usr/bin/env python3
"""A registry proxy for fault tests: forwards every request to UPSTREAM (host:port), but

  cut_proxy.py UPSTREAM          the first GET of each blob over 10,000 bytes is cut after half
                                 its body (the connection closed);
  cut_proxy.py UPSTREAM uploads  the first upload request (PUT or PATCH) carrying over 10,000
                                 bytes is read and never forwarded nor answered (the connection
                                 closed, as by a registry that died mid-upload).

Prints "listening on 127.0.0.1:PORT" once it accepts, and one line per request to stderr:
"GET /v2/.../blobs/sha256:... range=bytes=N- cut" (or without "cut")."""

import http.client
import http.server
import sys
import threading

UPSTREAM = sys.argv[1]
CUT_UPLOADS = len(sys.argv) > 2 and sys.argv[2] == "uploads"
upload_cut = []
cut_done = set()
lock = threading.Lock()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if (CUT_UPLOADS and self.command in ("PUT", "PATCH") and "/blobs/uploads/" in self.path
                and length > 10000):
            with lock:
                first = not upload_cut
                upload_cut.append(self.path)
            if first:
                sys.stderr.write("%s %s cut\n" % (self.command, self.path))
                sys.stderr.flush()
                self.close_connection = True
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
        conn.request(self.command, self.path, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        cut = False
        if (not CUT_UPLOADS and self.command == "GET" and "/blobs/sha256:" in self.path and res.status == 200
                and len(data) > 10000):
            with lock:
                if self.path not in cut_done:
                    cut_done.add(self.path)
                    cut = True
        sys.stderr.write("%s %s range=%s%s\n" % (self.command, self.path,
                         self.headers.get("Range", ""), " cut" if cut else ""))
        sys.stderr.flush()
        self.send_response(res.status)
        for k, v in res.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
