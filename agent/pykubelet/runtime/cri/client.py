"""One gRPC channel to a CRI runtime, with the generated stubs of PyPI's ``container-runtime-interface-api``.

Every call goes through :meth:`CriClient.call`: it has a deadline (a runtime that hangs must never hang a
pod worker), it is timed for the runtime metrics, and its gRPC failure becomes something a person can act
on: an unreachable socket names the socket and how to start containerd; a missing object is
:class:`NotFound` (removal is idempotent); anything else is :class:`CriError` with the runtime's own words.

The channel is made on first use, inside the running event loop (``grpc.aio`` binds a channel to the loop
it was made in, and the agent builds its runtime before the loop starts). Reconnection back-off is kept
short, so a containerd that restarts is found again within seconds rather than gRPC's default two minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio
from cri_api.v1 import api_pb2_grpc
from google.protobuf.message import Message

R = TypeVar("R", bound=Message)

DEFAULT_TIMEOUT = 60.0  # the kubelet's --runtime-request-timeout default (2m) is longer; 60s is plenty here
MAX_MESSAGE = 16 * 1024 * 1024  # the kubelet's maxMsgSize
HOW_TO_START = (
    "is containerd running with its CRI plugin on that socket? Start the lab's with "
    "scripts/ensure-containerd.sh (or `containerd --config /etc/pykubelet-containerd/config.toml`)"
)


class NotFound(Exception):
    """The runtime has no such sandbox, container or image."""


class CriError(Exception):
    """A CRI call failed for a reason of the runtime's (its message, without gRPC's preamble)."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details or code.name)
        self.method = method
        self.code = code
        self.details = details or code.name


class Unreachable(ConnectionError):
    """The runtime's socket does not answer: what was tried, and how to start the runtime."""


def target(endpoint: str) -> str:
    """``--container-runtime-endpoint`` -> a gRPC target: ``unix:///path`` as is, a bare path as unix."""
    if endpoint.startswith("unix:"):
        return endpoint
    return f"unix://{endpoint}"


def _why(details: str) -> str:
    """gRPC's long "failed to connect to all addresses; last error: ..." -> the part a person needs."""
    for cause, words in _CAUSES:
        if cause in details:
            return words
    return details


_CAUSES = (
    ("No such file or directory", "no socket at that path"),
    ("Connection refused", "nothing listens on the socket"),
    ("Permission denied", "permission denied on the socket (run pykubelet as root)"),
)


def _snake(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


class CriClient:
    """The RuntimeService and ImageService of one endpoint."""

    def __init__(self, endpoint: str, on_operation: Callable[[], Callable[[str, float, bool], None] | None]):
        self.endpoint = endpoint
        self._on_operation = on_operation  # read per call: the agent sets the hook after construction
        self._channel: grpc.aio.Channel | None = None
        self._runtime: Any = None
        self._images: Any = None

    def _stubs(self) -> tuple[Any, Any]:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                target(self.endpoint),
                options=[
                    ("grpc.max_receive_message_length", MAX_MESSAGE),
                    ("grpc.max_send_message_length", MAX_MESSAGE),
                    ("grpc.initial_reconnect_backoff_ms", 200),
                    ("grpc.min_reconnect_backoff_ms", 200),
                    ("grpc.max_reconnect_backoff_ms", 2000),
                ],
            )
            # The generated stubs are untyped; each call's response type is given to call() instead.
            self._runtime = api_pb2_grpc.RuntimeServiceStub(self._channel)  # type: ignore[no-untyped-call]
            self._images = api_pb2_grpc.ImageServiceStub(self._channel)  # type: ignore[no-untyped-call]
        return self._runtime, self._images

    def unreachable(self, details: str) -> Unreachable:
        return Unreachable(
            f"cannot reach the container runtime at {self.endpoint}: {_why(details)}; {HOW_TO_START}"
        )

    def translate(self, method: str, exc: grpc.aio.AioRpcError) -> Exception:
        """A gRPC failure -> NotFound, Unreachable, TimeoutError or CriError."""
        code, details = exc.code(), exc.details() or ""
        if code == grpc.StatusCode.NOT_FOUND:
            return NotFound(details)
        if code == grpc.StatusCode.UNAVAILABLE:
            return self.unreachable(details)
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return TimeoutError(f"{method} on {self.endpoint}: no answer in time ({details})")
        return CriError(method, code, details)

    async def call(
        self,
        method: str,
        request: Message,
        response: type[R],
        *,
        image: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> R:
        """One unary call of the RuntimeService (or, with ``image``, the ImageService)."""
        runtime, images = self._stubs()
        started = time.monotonic()
        ok = False
        try:
            result = await getattr(images if image else runtime, method)(request, timeout=timeout)
            ok = True
        except grpc.aio.AioRpcError as exc:
            raise self.translate(method, exc) from None
        finally:
            hook = self._on_operation()
            if hook is not None:
                hook(_snake(method), time.monotonic() - started, ok)
        if not isinstance(result, response):
            raise CriError(method, grpc.StatusCode.INTERNAL, f"unexpected answer {type(result).__name__}")
        return result

    async def stream(self, method: str, request: Message, response: type[R]) -> AsyncIterator[R]:
        """A server-streaming call of the RuntimeService (GetContainerEvents), without a deadline."""
        runtime, _ = self._stubs()
        call = getattr(runtime, method)(request)
        try:
            async for item in call:
                if isinstance(item, response):
                    yield item
        except grpc.aio.AioRpcError as exc:
            raise self.translate(method, exc) from None
        finally:
            call.cancel()

    def close(self) -> None:
        """Close the channel; from inside the loop the close runs as a task, else it is left to exit."""
        channel, self._channel = self._channel, None
        if channel is None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: the process is ending anyway
            loop = asyncio.get_running_loop()
            task = loop.create_task(channel.close())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
