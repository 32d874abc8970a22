#!/usr/bin/env python3
# A fake Engine API daemon on a unix socket that records each POST /containers/create body (one
# JSON document a line, with the query string) into a file and answers 201 with a fixed id, so
# that the bodies `docker create` and `berth create` send can be compared.
#
#   record_daemon.py SOCKET LOGFILE
import json
import os
import socketserver
import sys
from http.server import BaseHTTPRequestHandler

SOCK, LOG = sys.argv[1], sys.argv[2]
CID = "0123456789ab" + "0" * 52


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Api-Version", "1.41")
        self.send_header("Ostype", "linux")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.reply(200)

    def do_GET(self):
        if self.path.endswith("/_ping"):
            self.reply(200, b"OK", "text/plain")
        else:
            self.reply(404, json.dumps({"message": "not recorded: " + self.path}).encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if "/containers/create" in self.path:
            query = self.path.partition("?")[2]
            with open(LOG, "a") as f:
                f.write(json.dumps({"query": query, "body": json.loads(body)}) + "\n")
            self.reply(201, json.dumps({"Id": CID, "Warnings": []}).encode())
        else:
            self.reply(404, json.dumps({"message": "not recorded: " + self.path}).encode())


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCK):
    os.unlink(SOCK)
Server(SOCK, Handler).serve_forever()
