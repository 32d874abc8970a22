#!/usr/bin/env python3
"""A slow TCP link for fault tests: slow_link.py UPSTREAM_PORT [BYTES_PER_SECOND]

Listens on 127.0.0.1 (a free port, printed as "listening on 127.0.0.1:PORT"), and relays every
connection to 127.0.0.1:UPSTREAM_PORT byte for byte, each direction at most BYTES_PER_SECOND
(default 4 MB/s), so that a transfer lasts long enough for a test to kill the registry in the
middle of it. When the upstream dies the client's connection is closed too; a connection the
upstream refuses is closed at once. It knows nothing of HTTP.

Writes to stdout, after "listening", "relayed N" whenever another MiB has gone through in
either direction (N: the total so far), so a test can wait for a transfer to be under way."""

import socket
import sys
import threading
import time

UPSTREAM = ("127.0.0.1", int(sys.argv[1]))
RATE = int(sys.argv[2]) if len(sys.argv) > 2 else 4_000_000
CHUNK = 16 << 10
total = 0
reported = 0
lock = threading.Lock()


def account(n):
    global total, reported
    with lock:
        total += n
        if total - reported >= 1 << 20:
            reported = total
            print("relayed %d" % total, flush=True)


def pump(src, dst):
    start = time.monotonic()
    sent = 0
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
            sent += len(data)
            account(len(data))
            ahead = sent / RATE - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    try:
        up = socket.create_connection(UPSTREAM, timeout=5)
    except OSError:
        client.close()
        return
    up.settimeout(None)
    a = threading.Thread(target=pump, args=(client, up), daemon=True)
    b = threading.Thread(target=pump, args=(up, client), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    client.close()
    up.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
