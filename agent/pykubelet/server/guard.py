"""Keeps the read-only port answering while clients misbehave: head deadline, connection cap, stream cap.

The kubelet's read-only port is a plain Go ``http.Server`` (``IdleTimeout`` 90 s, ``ReadTimeout`` 4 h,
no cap on connections): Go gives every connection a cheap goroutine and raises ``RLIMIT_NOFILE`` to the
hard limit at start. One Python process cannot afford that: each open connection costs a file
descriptor the agent also needs for manifests and the Docker socket, so a few hundred half-sent
requests (a "slowloris") used to stop pods from starting. aiohttp's server has no header-read timeout
and no connection cap of its own, so this module adds them *between* the event loop and aiohttp,
without touching aiohttp's internals:

* :class:`GuardedProtocol` is a thin :class:`asyncio.Protocol` proxy in front of the
  ``RequestHandler`` that ``runner.server()`` makes for each connection. It holds the first request
  head until it is complete (so a silent or half-sent connection never costs an aiohttp handler and
  its task), then forwards every callback unchanged, watching the bytes only for where a head ends.
* A connection that has not sent a complete request head within :data:`HEAD_TIMEOUT` seconds of
  being accepted, or of its previous request's handler returning, is aborted (Go's
  ``ReadHeaderTimeout``, counted from the end of the last answer rather than from the next first
  byte, which also drops a client that stops reading). aiohttp's own ``keepalive_timeout``
  (:data:`KEEPALIVE_TIMEOUT`, shorter) usually closes an idle kept-alive connection first.
* At most ``max_connections`` are open. When a new one arrives at the cap, the connection that has
  waited longest for a request head (idle or half-sent: it costs an attacker nothing to hold) is
  aborted to make room, so a real client still gets in while thousands of idle sockets knock. Only
  when every open connection is busy being served is the newcomer refused, with a 503.
* A connection is *busy* from the end of its request head until its handler returns (the
  :meth:`ConnectionGuard.middleware`): a dashboard's server-sent-events stream is busy for as long as
  it streams, so neither the head deadline nor eviction touches it. Streams have their own cap
  (:data:`MAX_STREAMS`), checked by the ``/ui/stream`` handler.
* What the guard closes is logged through a :class:`LogThrottle`: at most one line per
  :data:`LOG_PERIOD` seconds with a count of the rest, so an attack cannot fill the disk with log.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from pykubelet.server.throttle import LOG_PERIOD, LogThrottle

HEAD_TIMEOUT = 10.0  # seconds to send a whole request head
KEEPALIVE_TIMEOUT = 5.0  # seconds an idle kept-alive connection stays open (aiohttp's keepalive_timeout)
MAX_CONNECTIONS = 512  # open connections at most (less when RLIMIT_NOFILE is low: listen_limits())
FD_RESERVE = 256  # descriptors kept for the agent's own work when the open-files limit is low
MAX_STREAMS = 32  # concurrent /ui/stream pages at most
MAX_HEAD_BYTES = 64 * 1024  # held back before aiohttp sees a connection; past it, aiohttp's limits apply
SOMAXCONN = Path("/proc/sys/net/core/somaxconn")
REFUSAL_BODY = b"503 too many connections: every one is being served; retry later\n"
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"Content-Length: %d\r\n"
    b"\r\n%s" % (len(REFUSAL_BODY), REFUSAL_BODY)
)


def listen_limits(max_connections: int = MAX_CONNECTIONS) -> tuple[int, int]:
    """(connection cap, listen backlog) that keep the port's descriptors within ``RLIMIT_NOFILE``.

    asyncio accepts up to ``backlog`` connections per loop pass, and an evicted connection's
    descriptor is only closed on the pass after: at the cap, a flood briefly holds about
    cap + 2 x backlog descriptors. Both are sized so that this, plus :data:`FD_RESERVE` for the
    agent's own work (manifests, the Docker socket, logs), stays under the soft limit. The backlog
    is also the kernel's accept queue (up to ``net.core.somaxconn``, as Go's ``net.Listen`` uses):
    a queue that overflows makes a real client wait for a SYN retransmission.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    somaxconn = _somaxconn()
    if soft == resource.RLIM_INFINITY:
        return max_connections, somaxconn
    available = max(soft - FD_RESERVE, 64)
    cap = max(16, min(max_connections, available // 2))
    return cap, max(16, min(somaxconn, (available - cap) // 2))


def _somaxconn() -> int:
    try:
        return max(128, min(int(SOMAXCONN.read_text()), 65535))
    except (OSError, ValueError):
        return 4096


class GuardedProtocol(asyncio.Protocol):
    """One connection: holds its first request head, then forwards everything to aiohttp's handler.

    aiohttp's handler (a parser and a task per connection) is only made once the first head is
    complete, or past :data:`MAX_HEAD_BYTES` (aiohttp then applies its own size limits): a socket
    that sends nothing or half a head costs a transport and this object, nothing more, and the
    agent gets through a flood of them quickly.
    """

    __slots__ = ("_buffer", "_guard", "_make_inner", "_tail", "_timer", "busy", "inner", "transport")

    def __init__(self, guard: ConnectionGuard, make_inner: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._make_inner = make_inner
        self.inner: asyncio.Protocol | None = None  # aiohttp's handler, once there is a head for it
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a head is complete and its handler has not returned yet
        self._buffer = bytearray()  # the first head, until it is complete
        self._tail = b""  # the last bytes seen, to find a blank line split across two reads
        self._timer: asyncio.TimerHandle | None = None  # the head deadline, armed while waiting

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self._guard.make_room():
            self._guard.admit(self)
        else:
            transport.write(REFUSAL)
            transport.close()

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            seen = self._tail + data
            # The blank line that ends a head: CRLF CRLF, or the bare LF LF some parsers accept. The
            # middleware marks the connection busy too, so a head this scan misses is still seen.
            if b"\n\r\n" in seen or b"\n\n" in seen:
                self._guard.head_complete(self)
            else:
                self._tail = seen[-2:]
        if self.inner is not None:
            self.inner.data_received(data)
            return
        self._buffer += data  # (a refused or aborted transport reads no more: no check needed)
        if self.busy or len(self._buffer) > MAX_HEAD_BYTES:
            self.inner = self._make_inner()
            assert self.transport is not None  # data arrives only on a made connection
            self.inner.connection_made(self.transport)
            self._guard.handled(self)
            head, self._buffer = bytes(self._buffer), bytearray()
            self.inner.data_received(head)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.forget(self)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def wait_for_head(self, deadline: float) -> None:
        """Not busy: the next head must be complete by ``deadline`` (loop time)."""
        self.busy, self._tail = False, b""
        self.disarm()
        self._timer = asyncio.get_running_loop().call_at(deadline, self._guard.head_timed_out, self)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def abort(self) -> None:
        self.disarm()
        if self.transport is not None:
            self.transport.abort()


class ConnectionGuard:
    """The open connections of one listening socket, and the rules above that decide which may stay."""

    def __init__(
        self,
        max_connections: int = MAX_CONNECTIONS,
        max_streams: int = MAX_STREAMS,
        head_timeout: float = HEAD_TIMEOUT,
        log_period: float = LOG_PERIOD,
    ) -> None:
        self.max_connections = max_connections
        self.max_streams = max_streams
        self.head_timeout = head_timeout
        self.streams = 0
        self.timed_out = self.evicted = self.refused = self.streams_refused = 0
        self._open: dict[GuardedProtocol, None] = {}  # admitted and not closed yet
        self._handlers: dict[asyncio.Protocol, GuardedProtocol] = {}  # aiohttp's handler -> its proxy
        self._waiting: OrderedDict[GuardedProtocol, None] = OrderedDict()  # longest-waiting first
        self._log_period = log_period
        self._logs: dict[str, LogThrottle] = {}  # one throttle per kind of message
        self.accept_errors = AcceptErrorFilter(self, log_period)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    @property
    def waiting_connections(self) -> int:
        """Open and waiting for a request head (idle or half-sent): the ones eviction may pick."""
        return len(self._waiting)

    def protocol_factory(self, make_inner: Callable[[], asyncio.Protocol]) -> Callable[[], GuardedProtocol]:
        """What ``loop.create_server`` takes: a guarded proxy around each of aiohttp's handlers."""
        return lambda: GuardedProtocol(self, make_inner)

    # -- the connections' states -----------------------------------------------------------------

    def make_room(self) -> bool:
        """Below the cap, after evicting the longest-waiting idle or half-sent connection if need be.

        False when every open connection is busy being served: the newcomer is the one refused.
        """
        while len(self._open) >= self.max_connections:
            if not self._waiting:
                self.refused += 1
                self._report("refused a connection: all %d open ones are being served", self.max_connections)
                return False
            self._evict_longest_waiting()
            self._report(
                "%d connections open (the cap): closed the one that waited longest for a request",
                self.max_connections,
            )
        return True

    def admit(self, conn: GuardedProtocol) -> None:
        self._open[conn] = None
        self._wait(conn)

    def handled(self, conn: GuardedProtocol) -> None:
        """aiohttp has a handler for ``conn`` now: requests on it find their way back here."""
        assert conn.inner is not None
        self._handlers[conn.inner] = conn

    def shed(self) -> int:
        """Out of descriptors: close the longest-waiting quarter of the waiting connections."""
        count = max(1, len(self._waiting) // 4) if self._waiting else 0
        for _ in range(count):
            self._evict_longest_waiting()
        return count

    def close_waiting(self) -> None:
        """Stopping: close every connection waiting for a head (aiohttp closes the ones it serves)."""
        for conn in list(self._waiting):
            self._close(conn)

    def head_complete(self, conn: GuardedProtocol) -> None:
        conn.busy = True
        conn.disarm()
        self._waiting.pop(conn, None)

    def answered(self, conn: GuardedProtocol) -> None:
        """Its handler returned: waiting for the next head (if the connection is still ours)."""
        if conn in self._open:
            self._wait(conn)

    def head_timed_out(self, conn: GuardedProtocol) -> None:
        self._close(conn)
        self.timed_out += 1
        self._report("closed a connection that sent no complete request head within %gs", self.head_timeout)

    def forget(self, conn: GuardedProtocol) -> None:
        conn.disarm()
        self._drop(conn)

    def _wait(self, conn: GuardedProtocol) -> None:
        self._waiting.pop(conn, None)
        self._waiting[conn] = None  # the newest waiter: evicted last
        conn.wait_for_head(asyncio.get_running_loop().time() + self.head_timeout)

    def _evict_longest_waiting(self) -> None:
        self._close(next(iter(self._waiting)))
        self.evicted += 1

    def _close(self, conn: GuardedProtocol) -> None:
        """Abort at once (RST): nothing is owed to a connection that sent no complete request."""
        self._drop(conn)
        conn.abort()

    def _drop(self, conn: GuardedProtocol) -> None:
        self._waiting.pop(conn, None)
        self._open.pop(conn, None)
        if conn.inner is not None:
            self._handlers.pop(conn.inner, None)

    def _report(self, message: str, *args: object) -> None:
        throttle = self._logs.setdefault(message, LogThrottle(self._log_period))
        throttle(logging.WARNING, "Read-only port under pressure: " + message, *args)

    # -- called from the application -------------------------------------------------------------

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Busy while the handler runs (a whole SSE stream included), waiting for the next head after.

        The answer may still be on its way out when the handler returns: a client that does not read
        it within the head deadline is treated like one that sends nothing (a reader that stalls is
        the mirror image of a slowloris).
        """
        conn = self._handlers.get(request.protocol)
        if conn is not None:
            self.head_complete(conn)
        try:
            return await handler(request)
        finally:
            if conn is not None:
                self.answered(conn)

    def open_stream(self) -> bool:
        """Take a stream slot (True), or count a refusal (False) when :attr:`max_streams` are open."""
        if self.streams >= self.max_streams:
            self.streams_refused += 1
            self._report("refused a dashboard stream: %d are open, the cap", self.max_streams)
            return False
        self.streams += 1
        return True

    def close_stream(self) -> None:
        self.streams -= 1

    def stream_refusal(self) -> web.Response:
        return web.Response(
            status=503,
            text=f"503 too many dashboard streams: {self.max_streams} are open, the limit; "
            "close a dashboard tab or retry later\n",
            headers={"Retry-After": "5"},
        )


async def nosniff(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer of the app (404, 405, 500, files, streams) says nosniff.

    Not covered: the 400 aiohttp's parser writes for a malformed head before any route is matched,
    as Go's ``net/http`` writes its own bare 400 for the kubelet.
    """
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


GUARD: web.AppKey[ConnectionGuard] = web.AppKey("connection-guard", ConnectionGuard)


def install(app: web.Application, guard: ConnectionGuard) -> None:
    """Put ``guard`` in front of every handler of ``app`` (outermost middleware); nosniff on all answers."""
    app[GUARD] = guard
    app.middlewares.insert(0, guard.middleware)
    app.on_response_prepare.append(nosniff)


class AcceptErrorFilter:
    """The loop's exception handler while the port serves: "out of system resource" at most per period.

    When the process runs out of file descriptors, asyncio's accept loop reports every failed
    ``accept()`` through the loop's exception handler, with a traceback: up to one per listen-backlog
    slot per second, megabytes of identical lines. Those reports are throttled here, and a quarter of
    the connections waiting for a head are closed to give descriptors back; everything else goes to
    the handler that was installed before (or the loop's default).
    """

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self, guard: ConnectionGuard, period: float = LOG_PERIOD) -> None:
        self.guard = guard
        self.throttle = LogThrottle(period)
        self._previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None = None
        self._last_shed = float("-inf")
        self._installed = False

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self)
        self._installed = True

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._installed and loop.get_exception_handler() is self:
            loop.set_exception_handler(self._previous)
        self._installed = False

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == self.MESSAGE:
            # Idle and half-sent connections are the cheapest descriptors to give back, to the next
            # accept and to the agent's own work (manifests, the Docker socket): once per retry.
            if loop.time() - self._last_shed >= 1.0:
                self._last_shed = loop.time()
                self.guard.shed()
            self.throttle(
                logging.WARNING,
                "The read-only port cannot accept connections: %s, with %d open (cap %d); "
                "raise the open-files limit (LimitNOFILE in the systemd unit) or find the client "
                "that holds them; retrying every second",
                context.get("exception"),
                self.guard.open_connections,
                self.guard.max_connections,
            )
            return
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)
