"""A small manifest server on 127.0.0.1 that can misbehave: the other end of ``--manifest-url``.

It serves one body in one of several ways (plainly, in chunks, dripping, without end, shorter than its
``Content-Length``, gzip-compressed, with an error status, or as a redirect to a second server on
127.0.0.2, another origin) and records the headers every request brought, so the redirect case can
check where ``--manifest-url-header`` values went. Every misbehaviour is bounded in bytes and seconds
and stops when the client hangs up.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

DRIP_PERIOD = 0.5  # seconds between two bytes of a dripping body
DRIP_FOR = 40.0  # the longest a dripping body drips
ENDLESS_CAP = 64 * 1024 * 1024  # the most an endless body sends
CHUNK = 64  # bytes per chunk of a chunked body


@dataclass
class Behaviour:
    body: bytes = b""
    mode: str = "plain"  # plain | chunked | drip | endless | short | gzip | redirect
    status: int = 200
    location: str = ""
    headers_seen: list[dict[str, str]] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    behaviours: ClassVar[dict[int, Behaviour]] = {}

    def do_GET(self) -> None:
        behaviour = self.behaviours[self.server.server_address[1]]
        behaviour.headers_seen.append(dict(self.headers.items()))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            getattr(self, f"_send_{behaviour.mode}")(behaviour)

    def _head(self, status: int, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/yaml")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _send_plain(self, b: Behaviour) -> None:
        self._head(b.status, Content_Length=str(len(b.body)))
        self.wfile.write(b.body)

    def _send_chunked(self, b: Behaviour) -> None:
        """Many small chunks with a pause between them: a reader that takes what is buffered gets a piece."""
        self._head(b.status, Transfer_Encoding="chunked")
        for i in range(0, len(b.body), CHUNK):
            piece = b.body[i : i + CHUNK]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            time.sleep(0.01)
        self.wfile.write(b"0\r\n\r\n")

    def _send_drip(self, b: Behaviour) -> None:
        """One byte every half second: each read makes progress, so only a total deadline ends it."""
        self._head(b.status, Content_Length=str(len(b.body)))
        deadline = time.monotonic() + DRIP_FOR
        for byte in b.body:
            if time.monotonic() > deadline:
                break
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(DRIP_PERIOD)
        self.close_connection = True

    def _send_endless(self, b: Behaviour) -> None:
        """A YAML comment that never ends (up to ENDLESS_CAP), with no length: only a byte cap ends it."""
        self._head(b.status, Connection="close")
        block = b"#" * 65535 + b"\n"
        for _ in range(ENDLESS_CAP // len(block)):
            self.wfile.write(block)
        self.close_connection = True

    def _send_short(self, b: Behaviour) -> None:
        """A body cut short: the length promises more than is sent, then the connection closes."""
        self._head(b.status, Content_Length=str(len(b.body) + 4096), Connection="close")
        self.wfile.write(b.body)
        self.close_connection = True

    def _send_gzip(self, b: Behaviour) -> None:
        """``b.body`` is already compressed; a client that inflates it blindly holds the whole expansion."""
        self._head(b.status, Content_Length=str(len(b.body)), Content_Encoding="gzip")
        self.wfile.write(b.body)

    def _send_redirect(self, b: Behaviour) -> None:
        self._head(302, Location=b.location, Content_Length="0")

    def log_message(self, *args: Any) -> None:
        pass


class ManifestServer:
    """The server at ``url`` and its partner on another origin (127.0.0.2) for redirects."""

    def __init__(self) -> None:
        self._servers: list[http.server.ThreadingHTTPServer] = []
        self.main_port = self._start("127.0.0.1")
        self.other_port = self._start("127.0.0.2")
        self.url = f"http://127.0.0.1:{self.main_port}/pods.yaml"
        self.other_url = f"http://127.0.0.2:{self.other_port}/pods.yaml"

    def _start(self, host: str) -> int:
        server = http.server.ThreadingHTTPServer((host, 0), _Handler)
        server.daemon_threads = True
        port = server.server_address[1]
        _Handler.behaviours[port] = Behaviour()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        return port

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[ManifestServer]:
        server = cls()
        try:
            yield server
        finally:
            for s in server._servers:
                s.shutdown()
                s.server_close()

    def serve(self, body: bytes, mode: str = "plain", status: int = 200, *, other: bool = False) -> None:
        """What the next fetches get, swapped in one go so a fetch never sees half a change."""
        port = self.other_port if other else self.main_port
        seen = _Handler.behaviours[port].headers_seen
        _Handler.behaviours[port] = Behaviour(body, mode, status, self.other_url, seen)

    def serve_pods(self, pods: list[dict[str, Any]], mode: str = "plain", *, other: bool = False) -> None:
        self.serve(pod_list(pods), mode, other=other)

    def headers_seen(self, *, other: bool = False) -> list[dict[str, str]]:
        return list(_Handler.behaviours[self.other_port if other else self.main_port].headers_seen)


def pod_list(pods: list[dict[str, Any]]) -> bytes:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "PodList", "items": pods}, sort_keys=False).encode()
