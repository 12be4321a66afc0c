"""The four ways the kubelet checks on or talks to a container: exec, httpGet, tcpSocket, grpc.

Probes (``pkg/kubelet/prober``) and lifecycle hooks (``pkg/kubelet/lifecycle/handlers.go``) share them,
so they live here once. Every action has its own timeout and never blocks the event loop: exec runs on
the runtime's exec pool, the network actions are asyncio. Messages follow the kubelet's wording, since
they end up in ``Unhealthy`` events that people read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any

import aiohttp

from pykubelet.runtime.api import Runtime

MAX_BODY = 10 * 1024


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""


def resolve_port(port: Any, container: dict[str, Any]) -> int:
    """A port by number, or by the name of one of the container's ports (``findPortByName``)."""
    if isinstance(port, int):
        return port
    text = str(port)
    if text.isdigit():
        return int(text)
    for candidate in container.get("ports") or []:
        if candidate.get("name") == text:
            return int(candidate["containerPort"])
    raise ValueError(f"couldn't find port: {text} in container {container.get('name')}")


async def run(
    action: dict[str, Any],
    *,
    runtime: Runtime,
    container_id: str,
    container: dict[str, Any],
    pod_ip: str,
    timeout: float,
) -> Outcome:
    """Run one handler (the single key of ``action`` that is set) and say how it went."""
    try:
        if "exec" in action:
            return await _exec(runtime, container_id, action["exec"], timeout)
        if "httpGet" in action:
            return await _http_get(action["httpGet"], container, pod_ip, timeout)
        if "tcpSocket" in action:
            return await _tcp(action["tcpSocket"], container, pod_ip, timeout)
        if "grpc" in action:
            return await _grpc(action["grpc"], pod_ip, timeout)
        if "sleep" in action:
            await asyncio.sleep(float(action["sleep"].get("seconds", 0)))
            return Outcome(True)
    except ValueError as exc:
        return Outcome(False, str(exc))
    return Outcome(False, f"unsupported handler: {sorted(action)}")


async def _exec(runtime: Runtime, container_id: str, spec: dict[str, Any], timeout: float) -> Outcome:
    command = [str(c) for c in spec.get("command") or []]
    try:
        code, output = await runtime.exec_sync(container_id, command, timeout)
    except TimeoutError:
        return Outcome(False, f"command {command!r} timed out")
    except Exception as exc:
        return Outcome(False, f"exec failed: {exc}")
    if code == 0:
        return Outcome(True, output.strip())
    return Outcome(False, output.strip() or f"command {command!r} exited with {code}")


async def _http_get(spec: dict[str, Any], container: dict[str, Any], pod_ip: str, timeout: float) -> Outcome:
    scheme = str(spec.get("scheme", "HTTP")).lower()
    host = spec.get("host") or pod_ip
    port = resolve_port(spec.get("port"), container)
    path = spec.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    headers = {"User-Agent": "kube-probe/1.35", "Accept": "*/*"}
    headers.update({h["name"]: h["value"] for h in spec.get("httpHeaders") or [] if "name" in h})
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url, headers=headers, allow_redirects=False, ssl=False) as response,
        ):
            body = (await response.content.read(MAX_BODY)).decode(errors="replace")
            if 200 <= response.status < 400:
                return Outcome(True, body)
            return Outcome(False, f"HTTP probe failed with statuscode: {response.status}")
    except asyncio.TimeoutError:
        return Outcome(
            False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        )
    except aiohttp.ClientError as exc:
        return Outcome(False, f'Get "{url}": {_reason(exc)}')


async def _tcp(spec: dict[str, Any], container: dict[str, Any], pod_ip: str, timeout: float) -> Outcome:
    host = spec.get("host") or pod_ip
    port = resolve_port(spec.get("port"), container)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except asyncio.TimeoutError:
        return Outcome(False, f"dial tcp {host}:{port}: i/o timeout")
    except OSError as exc:
        return Outcome(False, f"dial tcp {host}:{port}: connect: {_strerror(exc)}")
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return Outcome(True)


async def _grpc(spec: dict[str, Any], pod_ip: str, timeout: float) -> Outcome:
    """The standard gRPC health-checking protocol (``grpc.health.v1.Health/Check``)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = f"{pod_ip}:{int(spec['port'])}"
    service = spec.get("service") or ""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return Outcome(False, f"timeout: health rpc did not complete within {timeout:g}s")
            return Outcome(False, f"failed to connect service {target!r}: {exc.details() or exc.code().name}")
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    if status == "SERVING":
        return Outcome(True)
    return Outcome(False, f'service unhealthy (responded with "{status}")')


def _reason(exc: Exception) -> str:
    """Go's wording for a failed dial (``connect: connection refused``), which is what people search for."""
    cause = getattr(exc, "os_error", None)
    if isinstance(cause, OSError):
        return f"dial tcp: connect: {_strerror(cause)}"
    return str(exc)


def _strerror(exc: OSError) -> str:
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)
