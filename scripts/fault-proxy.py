#!/usr/bin/env python3
"""An HTTP proxy that injects faults, for testing what a flaky network or S3 does to a run.

    python3 scripts/fault-proxy.py --upstream http://127.0.0.1:5000 --rate 0.2 --seed 7 --port 9100
    S3_ENDPOINT=http://127.0.0.1:9100 iceberg-ingest run --config job.json   # (or "s3": {"endpoint": ...})

Every request is forwarded to --upstream as it came (method, path, query, headers, body), except that with
probability --rate one fault, chosen by a random source seeded with --seed, happens instead:

  500           answer 500 InternalError without forwarding
  503           answer 503 SlowDown without forwarding
  reset-before  read the request, then reset the connection without forwarding
  reset-after   forward the request (so it takes effect), then reset the connection without answering
  stall         wait --stall-seconds, then forward and answer normally
  truncate      forward, then send the headers and half the body, and close

--faults picks some of them (comma-separated; all by default). GET /_proxy/stats answers the counts as JSON
(requests, forwarded, and one count per fault) and is never faulted. --bandwidth-mib N makes the proxy one link
of N MiB/s that every response body it sends shares (a pod's network, to simulate many machines on one:
one proxy per process). Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ["500", "503", "reset-before", "reset-after", "stall", "truncate"]
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "expect", "content-length"}

ERROR_BODY = {
    "500": b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
    "503": b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
}


class State:
    def __init__(self, args):
        self.args = args
        self.random = random.Random(args.seed)
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "forwarded": 0, **{f: 0 for f in FAULTS}}
        self.faults = [f for f in args.faults.split(",") if f]
        unknown = [f for f in self.faults if f not in FAULTS]
        if unknown:
            sys.exit(f"unknown faults {unknown}; choose from {FAULTS}")
        # The simulated link (--bandwidth-mib): when it is free again.
        self.link_free = 0.0
        upstream = urllib.parse.urlsplit(args.upstream)
        self.upstream_host = upstream.hostname
        self.upstream_port = upstream.port or 80

    def draw(self):
        with self.lock:
            self.counts["requests"] += 1
            if self.faults and self.random.random() < self.args.rate:
                fault = self.random.choice(self.faults)
                self.counts[fault] += 1
                return fault
            return None

    def transmit(self, size):
        """Waits until the link, shared by every connection, has carried `size` more bytes."""
        rate = self.args.bandwidth_mib * 1048576
        if rate <= 0 or size == 0:
            return
        with self.lock:
            start = max(time.monotonic(), self.link_free)
            self.link_free = start + size / rate
            done = self.link_free
        time.sleep(max(0.0, done - time.monotonic()))

    def count(self, key):
        with self.lock:
            self.counts[key] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reset(self):
        # SO_LINGER with a zero timeout makes close() send a TCP reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def forward(self, body):
        connection = http.client.HTTPConnection(self.state.upstream_host, self.state.upstream_port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        connection.request(self.command, self.path, body=body if body else None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        self.state.count("forwarded")
        return response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP], data

    def answer(self, status, headers, data, truncate=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.state.transmit(len(data) // 2 if truncate else len(data))
            self.wfile.write(data[: len(data) // 2] if truncate else data)
        if truncate:
            self.wfile.flush()
            self.close_connection = True

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/_proxy/stats"):
            with self.state.lock:
                data = json.dumps(self.state.counts).encode()
            self.answer(200, [("Content-Type", "application/json")], data)
            return
        fault = self.state.draw()
        if fault in ("500", "503"):
            self.answer(int(fault), [("Content-Type", "application/xml")], ERROR_BODY[fault])
            return
        if fault == "reset-before":
            self.reset()
            return
        if fault == "stall":
            time.sleep(self.state.args.stall_seconds)
        try:
            status, headers, data = self.forward(body)
        except OSError as error:
            self.answer(502, [("Content-Type", "text/plain")], f"upstream: {error}".encode())
            return
        if fault == "reset-after":
            self.reset()
            return
        self.answer(status, headers, data, truncate=(fault == "truncate" and self.command != "HEAD" and len(data) > 1))

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="http://host:port to forward to")
    parser.add_argument("--rate", type=float, default=0.2, help="fraction of requests faulted (default 0.2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random source choosing faults")
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated faults to inject (default: all)")
    parser.add_argument("--stall-seconds", type=float, default=2.0, help="how long a stall waits (default 2)")
    parser.add_argument("--bandwidth-mib", type=float, default=0, help="MiB/s shared by all responses (default 0: unlimited)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--port-file", help="write the port here once listening")
    args = parser.parse_args()
    Handler.state = State(args)
    # socketserver listens with a backlog of 5: a client opening dozens of connections at once would see
    # SYNs dropped and retried a second later, a stall the proxy did not mean to add.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"fault-proxy on http://127.0.0.1:{port} -> {args.upstream}, rate {args.rate}, seed {args.seed}, faults {Handler.state.faults}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
