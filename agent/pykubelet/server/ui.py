"""The lab dashboard under ``/ui/``: a live picture of the node, served on the read-only port.

The page (``pykubelet/ui/static``: plain HTML, CSS and JavaScript, nothing fetched from elsewhere) gets
everything from one server-sent-events stream, ``/ui/stream``: a JSON *snapshot* of the node (pods with
their containers, volumes and infra container, manifest errors, recent events, the node name and root
directory) whenever it changes, and a heartbeat in between so the page notices an agent that stopped
answering. Like every other handler on this port, the snapshot is built from state the agent already
holds: a connected page never causes a Docker call. It is recomputed at most every :data:`POLL_PERIOD`
and shared by all connected pages; a page is sent a new one only when its JSON differs from the last.

Nothing here changes state: every route is a GET (the read-only middleware refuses other methods).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from aiohttp import web

from pykubelet import __version__, volumes
from pykubelet.qos import pod_qos
from pykubelet.server.guard import GUARD
from pykubelet.server.host import Host, NodeFacts, PodDetail

POLL_PERIOD = 0.25  # how often the stream looks for a change (the issue asks for changes within 1 s)
HEARTBEAT_PERIOD = 2.0  # the page calls the agent "not answering" after a few missed heartbeats
RECONNECT_MS = 1000  # the EventSource retry delay the stream asks for
MAX_EVENTS = 100

STATIC = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    # Only this origin: no CDN, no inline script, nothing from the internet.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


# -- the snapshot -------------------------------------------------------------------------------------


def snapshot(host: Host) -> dict[str, Any]:
    """Everything the page draws, from the agent's in-memory state (no Docker call)."""
    facts = host.node_facts()
    pods = []
    for item in host.pod_list()["items"]:
        uid = item["metadata"].get("uid", "")
        pods.append(pod_view(item, host.pod_detail(uid), facts))
    errors = [
        {"file": entry["file"], "reason": entry["error"], "fields": [_field(f) for f in entry["fields"]]}
        for entry in host.manifest_report()
        if "error" in entry
    ]
    runtime_ok, runtime_error = host.runtime_state()
    return {
        "node": facts.name,
        "rootDir": facts.root_dir,
        "manifestPath": facts.manifest_path,
        "infraImage": facts.infra_image,
        "version": __version__,
        "agentStarted": _iso(facts.started_at),
        "runtime": {"ok": runtime_ok, "error": "" if runtime_ok else runtime_error},
        "pods": pods,
        "errors": errors,
        "events": [_event_view(e) for e in reversed(host.events()[-MAX_EVENTS:])],
    }


def pod_view(item: dict[str, Any], detail: PodDetail, facts: NodeFacts) -> dict[str, Any]:
    """One pod card: the /pods item regrouped around the infra container, the containers and volumes."""
    metadata, spec = item["metadata"], item["spec"]
    status = item.get("status") or {}
    uid = metadata.get("uid", "")
    annotations = metadata.get("annotations") or {}
    init_specs = spec.get("initContainers") or []
    app_specs = spec.get("containers") or []
    init_status = {s["name"]: s for s in status.get("initContainerStatuses") or []}
    app_status = {s["name"]: s for s in status.get("containerStatuses") or []}
    return {
        "uid": uid,
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", "default"),
        "file": detail.source
        if detail.source is not None
        else annotations.get("kubernetes.io/config.source", ""),
        "phase": status.get("phase", "Pending"),
        "podIP": status.get("podIP", ""),
        "hostIP": status.get("hostIP", ""),
        "qosClass": status.get("qosClass") or pod_qos(spec),
        "created": annotations.get("kubernetes.io/config.seen") or status.get("startTime", ""),
        "startTime": status.get("startTime", ""),
        "restartPolicy": spec.get("restartPolicy", "Always"),
        "ready": _condition(status, "Ready"),
        "infra": _infra_view(spec, status, facts.infra_image, detail.sandbox_error),
        "initContainers": [_container_view(c, init_status.get(c["name"]), init=True) for c in init_specs],
        "containers": [_container_view(c, app_status.get(c["name"]), init=False) for c in app_specs],
        "volumes": _volumes_view(spec, uid, facts.root_dir),
    }


def _infra_view(
    spec: dict[str, Any], status: dict[str, Any], image: str, sandbox_error: tuple[str, str] | None
) -> dict[str, Any]:
    """The pause container: it owns the network namespace, so the pod IP and the hostPorts are its."""
    host_network = bool(spec.get("hostNetwork"))
    host_ports = [
        {
            "hostPort": port["hostPort"],
            "containerPort": port.get("containerPort"),
            "protocol": port.get("protocol", "TCP"),
            "hostIP": port.get("hostIP", ""),
            "container": container["name"],
        }
        for container in spec.get("containers") or []
        for port in container.get("ports") or []
        if port.get("hostPort")
    ]
    if status.get("podIP"):
        state = {"kind": "running", "reason": ""}
    elif sandbox_error is not None:
        state = {"kind": "waiting", "reason": sandbox_error[0], "message": sandbox_error[1]}
    elif status.get("phase") in ("Succeeded", "Failed"):
        state = {"kind": "terminated", "reason": "Stopped (the pod has finished)"}
    else:
        state = {"kind": "waiting", "reason": "ContainerCreating"}
    return {
        "image": image,
        "ip": status.get("podIP", ""),
        "hostNetwork": host_network,
        "hostPorts": host_ports,
        "state": state,
    }


def _container_view(spec: dict[str, Any], status: dict[str, Any] | None, *, init: bool) -> dict[str, Any]:
    status = status or {}
    state = status.get("state") or {"waiting": {"reason": "PodInitializing" if not init else "Waiting"}}
    kind = next(iter(state), "waiting")
    detail = state.get(kind) or {}
    view_state: dict[str, Any] = {"kind": kind, "reason": detail.get("reason", "")}
    if detail.get("message"):
        view_state["message"] = detail["message"]
    if kind == "terminated":
        view_state["exitCode"] = detail.get("exitCode")
        view_state["finishedAt"] = detail.get("finishedAt")
    if detail.get("startedAt"):
        view_state["startedAt"] = detail["startedAt"]
    last = (status.get("lastState") or {}).get("terminated")
    return {
        "name": spec["name"],
        "image": status.get("image") or spec.get("image", ""),
        "imagePullPolicy": spec.get("imagePullPolicy", ""),
        "state": view_state,
        "ready": bool(status.get("ready")),
        "restartCount": int(status.get("restartCount") or 0),
        "lastTermination": (
            {"reason": last.get("reason", ""), "exitCode": last.get("exitCode"), "at": last.get("finishedAt")}
            if last
            else None
        ),
        "ports": [
            {k: p[k] for k in ("name", "containerPort", "hostPort", "protocol") if k in p}
            for p in spec.get("ports") or []
        ],
        "mounts": [
            {"volume": m["name"], "mountPath": m.get("mountPath", ""), "readOnly": bool(m.get("readOnly"))}
            for m in spec.get("volumeMounts") or []
        ],
    }


def _volumes_view(spec: dict[str, Any], uid: str, root_dir: str) -> list[dict[str, Any]]:
    """Each volume once, with its host path and every container that mounts it."""
    mounted: dict[str, list[dict[str, Any]]] = {}
    for init, key in ((True, "initContainers"), (False, "containers")):
        for container in spec.get(key) or []:
            for m in container.get("volumeMounts") or []:
                mounted.setdefault(m["name"], []).append(
                    {
                        "container": container["name"],
                        "init": init,
                        "mountPath": m.get("mountPath", ""),
                        "readOnly": bool(m.get("readOnly")),
                    }
                )
    views = []
    for volume in spec.get("volumes") or []:
        name = volume["name"]
        view: dict[str, Any] = {"name": name, "mountedBy": mounted.get(name, [])}
        if "hostPath" in volume:
            source = volume["hostPath"] or {}
            view.update(kind="hostPath", path=source.get("path", ""), type=source.get("type", ""))
        elif "emptyDir" in volume:
            source = volume["emptyDir"] or {}
            view.update(
                kind="emptyDir",
                path=str(volumes.empty_dir_path(root_dir, uid, name)),
                medium=source.get("medium", ""),
                sizeLimit=source.get("sizeLimit", ""),
            )
        else:
            view.update(kind=next((k for k in volume if k != "name"), "unknown"), path="")
        views.append(view)
    return views


def _event_view(event: dict[str, Any]) -> dict[str, Any]:
    involved = event.get("involvedObject") or {}
    field_path = involved.get("fieldPath", "")
    container = field_path[field_path.find("{") + 1 : -1] if "{" in field_path else ""
    return {
        "type": event.get("type", ""),
        "reason": event.get("reason", ""),
        "message": event.get("message", ""),
        "count": event.get("count", 1),
        "first": event.get("firstTimestamp", ""),
        "last": event.get("lastTimestamp", ""),
        "kind": involved.get("kind", ""),
        "object": involved.get("name", ""),
        "namespace": involved.get("namespace", ""),
        "container": container,
    }


def _field(error: dict[str, str]) -> dict[str, str]:
    """``{"field": "spec.x", "message": "spec.x: Required value"}`` -> the path and the reason apart."""
    path, message = error.get("field", ""), error.get("message", "")
    if path and message.startswith(f"{path}: "):
        message = message[len(path) + 2 :]
    return {"field": path, "reason": message}


def _condition(status: dict[str, Any], kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or [])


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SnapshotHub:
    """The current snapshot as JSON, recomputed at most every ``period`` and shared by all pages."""

    def __init__(self, host: Host, period: float = POLL_PERIOD) -> None:
        self.host = host
        self.period = period
        self.version = 0
        self._data = b""
        self._at = float("-inf")

    def current(self) -> tuple[int, bytes]:
        now = time.monotonic()
        if now - self._at >= self.period:
            self._at = now
            data = json.dumps(snapshot(self.host), separators=(",", ":")).encode()
            if data != self._data:
                self._data = data
                self.version += 1
        return self.version, self._data


HUB: web.AppKey[SnapshotHub] = web.AppKey("ui-hub", SnapshotHub)
CLOSING: web.AppKey[asyncio.Event] = web.AppKey("ui-closing", asyncio.Event)


# -- handlers -----------------------------------------------------------------------------------------


def _load_static() -> dict[str, bytes]:
    base = resources.files("pykubelet") / "ui" / "static"
    return {name: (base / name).read_bytes() for name in STATIC}


def _static_handler(name: str, body: bytes) -> Any:
    async def handler(request: web.Request) -> web.Response:
        response = web.Response(body=body, content_type=STATIC[name], charset="utf-8")
        response.headers.update(SECURITY_HEADERS)
        return response

    return handler


async def ui_redirect(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/ui/")


async def snapshot_json(request: web.Request) -> web.Response:
    """The stream's current snapshot as one JSON document (for curl, and for a look without a browser)."""
    _, data = request.app[HUB].current()
    response = web.Response(body=data, content_type="application/json")
    response.headers.update(SECURITY_HEADERS)
    return response


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``snapshot`` when the node changes, ``heartbeat`` every few seconds.

    Each open page holds a connection for as long as it is open, so their number is capped
    (:data:`pykubelet.server.guard.MAX_STREAMS`): past it, a 503 that says so.
    """
    guard = request.app[GUARD]
    if not guard.open_stream():
        return guard.stream_refusal()
    try:
        return await _stream(request)
    finally:
        guard.close_stream()


async def _stream(request: web.Request) -> web.StreamResponse:
    hub, closing = request.app[HUB], request.app[CLOSING]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    sent = -1
    last_write = time.monotonic()
    try:
        await response.write(f"retry: {RECONNECT_MS}\n\n".encode())
        while not closing.is_set():
            version, data = hub.current()
            now = time.monotonic()
            if version != sent:
                await response.write(b"event: snapshot\nid: %d\ndata: %s\n\n" % (version, data))
                sent, last_write = version, now
            elif now - last_write >= HEARTBEAT_PERIOD:
                beat = json.dumps({"node": hub.host.node_facts().name, "version": version})
                await response.write(f"event: heartbeat\ndata: {beat}\n\n".encode())
                last_write = now
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(closing.wait(), POLL_PERIOD)
    except ConnectionError:
        pass  # the page went away
    return response


async def _on_shutdown(app: web.Application) -> None:
    """End the streams, so stopping the agent does not wait for open pages."""
    app[CLOSING].set()


def add_ui_routes(app: web.Application, host: Host) -> None:
    """Mount the dashboard on ``app``: ``/ui/`` (the page, its assets), ``/ui/stream``, ``/ui/snapshot``."""
    app[HUB] = SnapshotHub(host)
    app[CLOSING] = asyncio.Event()
    app.on_shutdown.append(_on_shutdown)
    add = app.router.add_get
    add("/ui", ui_redirect)
    for name, body in _load_static().items():
        add(f"/ui/{name}", _static_handler(name, body))
        if name == "index.html":
            add("/ui/", _static_handler(name, body))
    add("/ui/stream", stream)
    add("/ui/snapshot", snapshot_json)
