"""``pykubelet crictl``'s arguments and its CRI queries; what to print is :mod:`.views`'.

The runtime is asked through :class:`pykubelet.runtime.cri.client.CriClient` (the agent's own client, so a
failure reads the same as the agent's): lists first, so an id given as a prefix is resolved to one full
id (or refused as unknown or ambiguous) before any status call, as crictl lets the runtime resolve it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from cri_api.v1 import api_pb2 as pb
from google.protobuf.message import Message

from pykubelet.kubectl.crictl.views import (
    CONTAINER_STATES,
    containers_table,
    dump,
    images_table,
    message_dict,
    pods_table,
    sorted_images,
    status_document,
)
from pykubelet.kubectl.logs import stream_logs
from pykubelet.runtime import is_cri_endpoint
from pykubelet.runtime.cri.client import CriClient, CriError, NotFound, Unreachable

# crictl tries its default endpoints in order; the lab's own containerd comes first here.
DEFAULT_ENDPOINTS = (
    "unix:///run/pykubelet-containerd/containerd.sock",
    "unix:///run/containerd/containerd.sock",
    "unix:///run/crio/crio.sock",
)
CONFIG_FILE = Path("/etc/crictl.yaml")  # crictl's own config: runtime-endpoint
TIMEOUT = 10.0  # seconds for one CRI call (crictl's --timeout default is 2s; a busy lab needs more)


class CrictlError(Exception):
    """A request this command cannot serve; the message says why and what to do."""


def add_parser(sub: Any) -> None:
    """``pykubelet crictl ...`` under the subcommands of ``pykubelet``."""
    crictl = sub.add_parser(
        "crictl", help="crictl's views of the CRI runtime (pods, ps, inspect, images, logs)"
    )
    crictl.add_argument(
        "-r",
        "--runtime-endpoint",
        help="the CRI socket (default: $CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml, else the first of "
        + ", ".join(DEFAULT_ENDPOINTS)
        + " that exists)",
    )
    verbs = crictl.add_subparsers(dest="verb", required=True)
    pods = verbs.add_parser("pods", help="list pod sandboxes")
    ps = verbs.add_parser("ps", help="list containers (running ones; -a for all)")
    ps.add_argument("-a", "--all", action="store_true", help="every container, not only running ones")
    ps.add_argument("-p", "--pod", help="only the containers of this pod sandbox (id or prefix)")
    for listing in (pods, ps):
        listing.add_argument("--name", help="only those whose name matches this regular expression")
        listing.add_argument("--label", action="append", default=[], help="key=value filter (repeatable)")
        listing.add_argument("-s", "--state", help="only this state (pods: ready|notready)")
    images = verbs.add_parser("images", aliases=["image", "img"], help="list images")
    for listing in (pods, ps, images):
        listing.add_argument("-q", "--quiet", action="store_true", help="only ids")
        listing.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
        listing.add_argument("--no-trunc", action="store_true", help="full ids")
    for verb, what in (("inspectp", "pod sandbox"), ("inspect", "container")):
        inspect = verbs.add_parser(verb, help=f"the status of a {what}, as JSON")
        inspect.add_argument("ids", nargs="+", metavar="ID", help=f"{what} id (a unique prefix will do)")
        inspect.add_argument("-o", "--output", choices=["json", "yaml"], default="json")
        inspect.add_argument("-q", "--quiet", action="store_true", help="without the runtime's verbose info")
    logs = verbs.add_parser("logs", help="a container's log (from the log file the runtime writes)")
    logs.add_argument("id", metavar="ID", help="container id (a unique prefix will do)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing what is appended")
    logs.add_argument("--tail", type=int, help="only the last N lines")
    logs.add_argument("-t", "--timestamps", action="store_true", help="each line after its time")
    logs.add_argument("-p", "--previous", action="store_true", help="the container's previous instance")


def endpoint(flag: str | None) -> str:
    """crictl's order: the flag, $CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml, then a default that exists."""
    if flag:
        return flag
    if os.environ.get("CONTAINER_RUNTIME_ENDPOINT"):
        return os.environ["CONTAINER_RUNTIME_ENDPOINT"]
    try:
        config = yaml.safe_load(CONFIG_FILE.read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    if isinstance(config, dict) and config.get("runtime-endpoint"):
        return str(config["runtime-endpoint"])
    for candidate in DEFAULT_ENDPOINTS:
        if os.path.exists(candidate.removeprefix("unix://")):
            return candidate
    return DEFAULT_ENDPOINTS[0]


def run(args: argparse.Namespace) -> int:
    """One crictl verb: query the runtime, print, and turn every failure into one line."""
    where = endpoint(args.runtime_endpoint)
    try:
        _check(where)
        result = asyncio.run(_query(args, where))
    except (CrictlError, Unreachable, CriError, NotFound, TimeoutError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    if isinstance(result, Path):
        # its errors are the `logs` subcommand's, shown by main
        stream_logs(result, args.follow, args.tail, args.timestamps)
    elif result:
        print(result)
    return 0


def _check(where: str) -> None:
    """Refuse, before any gRPC, what gRPC would say less plainly: a Docker socket, a socket that is root's."""
    if "docker" in where and not is_cri_endpoint(where):
        raise CrictlError(
            f"{where} is a Docker engine; crictl is for CRI runtimes (containerd, CRI-O). On the Docker "
            "runtime look with `docker ps -a --filter label=io.kubernetes.pod.name`, or pass "
            f"--runtime-endpoint {DEFAULT_ENDPOINTS[0]}"
        )
    path = where.removeprefix("unix://")
    if where.startswith(("unix:", "/")) and os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        raise CrictlError(
            f"permission denied on {path}: the CRI socket is root's; rerun with sudo "
            f"(sudo pykubelet crictl {' '.join(sys.argv[2:]) or '...'})"
        )


def _one_line(exc: Exception) -> str:
    if isinstance(exc, NotFound):
        return f"not found: {exc}"
    if isinstance(exc, CriError):
        return f"{exc.method}: {exc.details}"
    return str(exc)


async def _query(args: argparse.Namespace, where: str) -> str | Path:
    client = CriClient(where, lambda: None)
    try:
        return await _VERBS[args.verb](client, args)
    finally:
        client.close()
        await asyncio.sleep(0)  # let the channel's close run before the loop ends


async def _call(
    client: CriClient, method: str, request: Message, response: type[Any], image: bool = False
) -> Any:
    return await client.call(method, request, response, image=image, timeout=TIMEOUT)


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or "=" in value:
            raise CrictlError(f"incorrectly specified label: {pair} (--label takes key=value)")
        labels[key] = value
    return labels


def _name_filter(pattern: str | None) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern) if pattern else None
    except re.error as exc:
        raise CrictlError(f"invalid regular expression {pattern!r}: {exc}") from None


async def _sandboxes(client: CriClient) -> list[Any]:
    answer = await _call(client, "ListPodSandbox", pb.ListPodSandboxRequest(), pb.ListPodSandboxResponse)
    return list(answer.items)


async def _containers(client: CriClient, request: Any = None) -> list[Any]:
    answer = await _call(
        client, "ListContainers", request or pb.ListContainersRequest(), pb.ListContainersResponse
    )
    return list(answer.containers)


def resolve(prefix: str, ids: Iterable[str], what: str, lister: str) -> str:
    """A unique id prefix -> the full id, as crictl lets the runtime resolve it."""
    matches = sorted({i for i in ids if i.startswith(prefix)}) if prefix else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CrictlError(f'no {what} with ID "{prefix}" (`pykubelet crictl {lister}` lists them)')
    raise CrictlError(f'{what} ID "{prefix}" is ambiguous: it starts {len(matches)} IDs; give more of it')


async def _pods(client: CriClient, args: argparse.Namespace) -> str:
    state = None
    if args.state:
        states = {"ready": pb.SANDBOX_READY, "notready": pb.SANDBOX_NOTREADY}
        if args.state.lower() not in states:
            raise CrictlError("--state should be ready or notready")
        state = pb.PodSandboxStateValue(state=states[args.state.lower()])
    request = pb.ListPodSandboxRequest(
        filter=pb.PodSandboxFilter(label_selector=_labels(args.label), state=state)
    )
    answer = await _call(client, "ListPodSandbox", request, pb.ListPodSandboxResponse)
    name = _name_filter(args.name)
    items = [s for s in answer.items if name is None or name.search(s.metadata.name)]
    items.sort(key=lambda s: s.created_at, reverse=True)
    if args.output != "table":
        return dump(message_dict(pb.ListPodSandboxResponse(items=items)), args.output, sort_keys=False)
    if args.quiet:
        return "\n".join(s.id for s in items)
    return pods_table(items, time.time(), args.no_trunc)


async def _ps(client: CriClient, args: argparse.Namespace) -> str:
    states = {n.lower(): v for v, n in CONTAINER_STATES.items()}
    if args.state and args.state.lower() not in states:
        raise CrictlError("--state should be one of created, running, exited or unknown")
    state = states[args.state.lower()] if args.state else None if args.all else pb.CONTAINER_RUNNING
    pod = (
        resolve(args.pod, [s.id for s in await _sandboxes(client)], "pod sandbox", "pods") if args.pod else ""
    )
    request = pb.ListContainersRequest(
        filter=pb.ContainerFilter(
            pod_sandbox_id=pod,
            label_selector=_labels(args.label),
            state=None if state is None else pb.ContainerStateValue(state=state),
        )
    )
    name = _name_filter(args.name)
    items = [c for c in await _containers(client, request) if name is None or name.search(c.metadata.name)]
    items.sort(key=lambda c: c.created_at, reverse=True)
    if args.output != "table":
        return dump(message_dict(pb.ListContainersResponse(containers=items)), args.output, sort_keys=False)
    if args.quiet:
        return "\n".join(c.id for c in items)
    return containers_table(items, time.time(), args.no_trunc)


async def _images(client: CriClient, args: argparse.Namespace) -> str:
    answer = await _call(client, "ListImages", pb.ListImagesRequest(), pb.ListImagesResponse, image=True)
    images = sorted_images(answer.images)
    if args.output != "table":
        return dump(message_dict(pb.ListImagesResponse(images=images)), args.output, sort_keys=False)
    if args.quiet:
        return "\n".join(i.id for i in images)
    return images_table(images, args.no_trunc)


async def _inspectp(client: CriClient, args: argparse.Namespace) -> str:
    ids = [s.id for s in await _sandboxes(client)]
    return await _statuses(
        client, args, [resolve(prefix, ids, "pod sandbox", "pods") for prefix in args.ids], "PodSandboxStatus"
    )


async def _inspect(client: CriClient, args: argparse.Namespace) -> str:
    ids = [c.id for c in await _containers(client)]
    return await _statuses(
        client, args, [resolve(prefix, ids, "container", "ps -a") for prefix in args.ids], "ContainerStatus"
    )


_STATUS_CALLS: dict[str, tuple[Any, Any, str]] = {
    "PodSandboxStatus": (pb.PodSandboxStatusRequest, pb.PodSandboxStatusResponse, "pod_sandbox_id"),
    "ContainerStatus": (pb.ContainerStatusRequest, pb.ContainerStatusResponse, "container_id"),
}


async def _statuses(client: CriClient, args: argparse.Namespace, ids: list[str], method: str) -> str:
    """``inspectp`` / ``inspect``: crictl's ``{"status": ..., "info": ...}`` of each id (a list for many)."""
    request_type, response_type, id_field = _STATUS_CALLS[method]
    documents = []
    for object_id in ids:
        request = request_type(**{id_field: object_id}, verbose=not args.quiet)
        answer = await _call(client, method, request, response_type)
        documents.append(status_document(answer.status, dict(answer.info)))
    return dump(documents[0] if len(documents) == 1 else documents, args.output, sort_keys=True)


async def _logs(client: CriClient, args: argparse.Namespace) -> Path:
    container = resolve(args.id, [c.id for c in await _containers(client)], "container", "ps -a")
    request = pb.ContainerStatusRequest(container_id=container)
    answer = await _call(client, "ContainerStatus", request, pb.ContainerStatusResponse)
    if not answer.status.log_path:
        raise CrictlError(f"container {container} has no log path (it was created without one)")
    path = Path(answer.status.log_path)
    if args.previous:  # crictl's way: the same directory, the attempt before this one's (<n-1>.log)
        attempt = answer.status.metadata.attempt
        if attempt == 0:
            raise CrictlError(f"container {container} is its first instance (attempt 0): no previous log")
        path = path.with_name(f"{attempt - 1}{path.suffix}")
        if not path.exists():
            raise CrictlError(f"the previous instance's log {path} is gone (rotated or garbage-collected)")
    return path


_VERBS: dict[str, Callable[[CriClient, argparse.Namespace], Awaitable[str | Path]]] = {
    "pods": _pods,
    "ps": _ps,
    "images": _images,
    "image": _images,
    "img": _images,
    "inspectp": _inspectp,
    "inspect": _inspect,
    "logs": _logs,
}
