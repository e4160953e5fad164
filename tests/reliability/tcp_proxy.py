"""A loopback TCP proxy a test can cut and restore: the real PostgreSQL or Redis, made unreachable on demand.

Three states:
- open: bytes flow both ways, as if the client talked to the service directly;
- refuse: every live connection is torn down and the port refuses new ones (the service is down);
- blackhole: live connections are torn down; new ones are accepted and never answered (a hung service).
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

State = Literal["open", "refuse", "blackhole"]


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.state: State = "open"
        self._lock = threading.Lock()
        self._live: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.accepted = 0
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: refuse
            with self._lock:
                self.accepted += 1
                self._live.append(client)
                if self.state == "blackhole":
                    continue  # held open, never answered
                if self.state == "refuse":  # cut between accept() and here
                    self._live.remove(client)
                    self._close(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._live.append(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def upstream_ports(self) -> list[int]:
        """The local ports of the proxy's connections to the service (how the service sees its clients)."""
        ports = []
        with self._lock:
            for sock in self._live:
                try:
                    if sock.getpeername() == self.target:
                        ports.append(sock.getsockname()[1])
                except OSError:
                    continue  # closed meanwhile
        return ports

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        self._close(src)
        self._close(dst)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _drop_live(self) -> None:
        with self._lock:
            live, self._live = self._live, []
        for sock in live:
            self._close(sock)

    def cut(self, state: State = "refuse") -> None:
        """Make the service unreachable: live connections die, new ones are refused (or hang)."""
        with self._lock:
            self.state = state
        if state == "refuse" and self._listener is not None:
            self._listener.close()
            self._listener = None
        self._drop_live()
        if state == "blackhole" and self._listener is None:
            self._listen()

    def restore(self) -> None:
        with self._lock:
            self.state = "open"
        self._drop_live()  # blackholed connections: their clients see a reset and reconnect
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._drop_live()
