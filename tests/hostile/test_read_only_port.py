"""Slow and idle clients on the read-only port: the agent keeps answering and keeps running pods.

Each abuse holds its connections open while the checks run: ``/healthz`` and ``/pods`` answer, the canary
pod and tree are untouched, and a fresh manifest still starts its pod (a connection costs the agent a
file descriptor it needs for manifests and the Docker socket). Then the port must close every abusive
connection by itself (a header deadline; Go's ``ReadHeaderTimeout``), even one that keeps sending a
byte a second, and what it closed must not flood the log. The 2000-connection load test lives with
the server's own tests; these are the named hostile inputs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.hostile.conftest import CANARY_POD, CaseRun, Hostile
from tests.integration.conftest import wait_for

HEAD = b"GET /pods HTTP/1.1\r\nHost: 127.0.0.1\r\n"
CLOSE_WITHIN = 60.0  # seconds the port may take to drop an abusive connection (a bound, not a benchmark)
LOG_BUDGET = 64 * 1024  # bytes of log one abuse may cost

# name -> (connections, what each sends first, whether it then drips one header byte a second)
ABUSES: dict[str, tuple[int, bytes, bool]] = {
    "idle-connections": (200, b"", False),
    "half-sent-requests": (200, HEAD, False),
    "slow-headers": (30, HEAD + b"X-Slow: ", True),
}


class Connections:
    """Open sockets, and which of them the server has closed (EOF or reset)."""

    def __init__(self, port: int, count: int, first: bytes) -> None:
        self.open: list[socket.socket] = []
        self.closed: set[int] = set()
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if first:
                sock.sendall(first)
            sock.setblocking(False)
            self.open.append(sock)

    def all_closed_by_server(self) -> bool:
        for index, sock in enumerate(self.open):
            if index in self.closed:
                continue
            with contextlib.suppress(BlockingIOError):
                try:
                    while sock.recv(65536):
                        pass  # an error status before the close is fine
                except OSError:
                    pass  # reset: closed
                self.closed.add(index)
        return len(self.closed) == len(self.open)

    def drip(self, stop: threading.Event) -> None:
        """One more byte of a header line that never ends, each second, on every connection still open."""
        while not stop.wait(1.0):
            for index, sock in enumerate(self.open):
                if index not in self.closed:
                    with contextlib.suppress(OSError):
                        sock.send(b"a")

    def close(self) -> None:
        for sock in self.open:
            sock.close()


@contextlib.contextmanager
def abusing(port: int, count: int, first: bytes, drip: bool) -> Iterator[Connections]:
    connections = Connections(port, count, first)
    stop = threading.Event()
    dripper = threading.Thread(target=connections.drip, args=(stop,), daemon=True)
    if drip:
        dripper.start()
    try:
        yield connections
    finally:
        stop.set()
        if drip:
            dripper.join(timeout=5)
        connections.close()


@pytest.mark.parametrize("abuse", list(ABUSES))
def test_read_only_port_abuse(
    file_agent: Hostile, begin_case: Callable[[Hostile], CaseRun], abuse: str
) -> None:
    h = file_agent
    run = begin_case(h)
    count, first, drip = ABUSES[abuse]
    with abusing(h.agent.port, count, first, drip) as connections:
        assert h.agent.get("/healthz") == "ok"
        assert h.agent.pod(CANARY_POD) is not None
        h.fresh_pod_starts()
        h.assert_unharmed(run.before)
        wait_for(
            f"the port to close all {count} connections",
            connections.all_closed_by_server,
            timeout=CLOSE_WITHIN,
            interval=0.5,
        )
    assert h.agent.get("/healthz") == "ok"
    grown = h.log_size() - run.log_from
    assert grown < LOG_BUDGET, f"the agent wrote {grown} bytes of log during the abuse"
