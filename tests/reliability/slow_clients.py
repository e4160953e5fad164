"""Slow clients, as an attacker (or a phone on a bad link) sends them: many connections, each sending a
little every few seconds, reopened as soon as the server drops one.

Half send a header line every `interval` seconds and never end the header; half send a whole header
for a POST to an unknown token, then trickle its body a few bytes at a time.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field

BODY_LENGTH = 100_000  # declared, never reached: under the upload limit, so nothing refuses it early


@dataclass
class _Conn:
    sock: socket.socket
    kind: str  # "header" or "body"
    opened: float
    sent: int = 0


@dataclass
class SlowClients:
    host: str
    port: int
    count: int = 50
    interval: float = 2.0
    open_counts: list[int] = field(default_factory=list)  # connections open at each tick
    held_seconds: list[float] = field(default_factory=list)  # how long each connection the server closed lasted
    _conns: list[_Conn] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> SlowClients:
        self._conns = [c for i in range(self.count) if (c := self._open("header" if i % 2 else "body"))]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        for conn in self._conns:
            conn.sock.close()

    def _open(self, kind: str) -> _Conn | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=2)
            sock.settimeout(2)
            if kind == "header":
                sock.sendall(b"GET /api/torque/upload/slow-header HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                sock.sendall(b"POST /api/torque/upload/not-a-token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\n"
                             b"Content-Length: " + str(BODY_LENGTH).encode() + b"\r\n\r\nsession=")
        except OSError:
            return None
        return _Conn(sock, kind, time.monotonic())

    @staticmethod
    def _closed_by_server(conn: _Conn) -> bool:
        readable, _, _ = select.select([conn.sock], [], [], 0)
        if readable:  # an answer (408, 400...) or EOF: the server is done with it
            try:
                conn.sock.recv(4096)
            except OSError:
                pass
        return bool(readable)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for index, conn in enumerate(self._conns):
                if conn.sock.fileno() == -1:  # its reopening failed last time: try again
                    self._conns[index] = self._open(conn.kind) or conn
                    continue
                alive = not self._closed_by_server(conn)
                if alive:
                    try:
                        conn.sock.sendall(f"X-Slow-{conn.sent}: 1\r\n".encode() if conn.kind == "header" else b"a" * 8)
                        conn.sent += 1
                    except OSError:
                        alive = False
                if not alive:
                    self.held_seconds.append(time.monotonic() - conn.opened)
                    conn.sock.close()
                    self._conns[index] = self._open(conn.kind) or conn
            self.open_counts.append(sum(1 for conn in self._conns if conn.sock.fileno() != -1))
