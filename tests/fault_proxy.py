"""A fault-injecting HTTP proxy on loopback, in front of the emulator, for the tests.

It takes one request per connection (it answers ``Connection: close``), and for
a seeded share of them does what real networks do to a client:

- ``reset_before``: resets the connection before the request reaches Iterable;
- ``reset_after``: forwards the request (Iterable applies it), then resets the
  connection before the answer arrives;
- ``truncate``: forwards, then sends the answer's headers and half its body;
- ``html``: answers HTTP 200 with an HTML page (a captive portal, a WAF), without
  forwarding;
- ``slow``: forwards, and answers only after ``slow_seconds``.

Everything else is forwarded untouched. Counts of each fault are kept.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

FAULTS = ("reset_before", "reset_after", "truncate", "html", "slow")
HTML = b"<html><body><h1>Access denied</h1></body></html>"


def _read_request(conn: socket.socket) -> bytes:
    """One HTTP request: headers, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _with_connection_close(request: bytes) -> bytes:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _reset(conn: socket.socket) -> None:
    """Close with RST, as a dropped connection looks to the client."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class FaultProxy:
    """``with FaultProxy(upstream_port, rates={...}) as proxy: proxy.url``."""

    def __init__(
        self,
        upstream_port: int,
        *,
        rates: Mapping[str, float] | None = None,
        seed: int = 1,
        slow_seconds: float = 3.0,
    ) -> None:
        self.upstream_port = upstream_port
        self.rates = dict(rates or {})
        self.slow_seconds = slow_seconds
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._server.close()

    def _pick(self) -> str:
        with self._lock:
            roll = self._random.random()
        for fault in FAULTS:
            rate = self.rates.get(fault, 0.0)
            if roll < rate:
                return fault
            roll -= rate
        return "none"

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            request = _read_request(conn)
            if not request:
                conn.close()
                return
            fault = self._pick()
            with self._lock:
                self.counts[fault] += 1
            if fault == "reset_before":
                _reset(conn)
                return
            if fault == "html":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                    + f"Content-Length: {len(HTML)}\r\n\r\n".encode()
                    + HTML
                )
                conn.close()
                return
            answer = self._forward(request)
            if fault == "reset_after":
                _reset(conn)
                return
            if fault == "truncate":
                head, _, body = answer.partition(b"\r\n\r\n")
                conn.sendall(head + b"\r\n\r\n" + body[: len(body) // 2])
                _reset(conn)
                return
            if fault == "slow":
                time.sleep(self.slow_seconds)
            conn.sendall(answer)
            conn.close()
        except OSError:
            conn.close()

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            upstream.sendall(_with_connection_close(request))
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


@contextmanager
def fault_proxy(upstream_url: str, **options: object) -> Iterator[FaultProxy]:
    port = int(upstream_url.rsplit(":", 1)[1].rstrip("/"))
    with FaultProxy(port, **options) as proxy:  # type: ignore[arg-type]
        yield proxy
