"""The ``get``, ``describe`` and ``logs`` subcommands of ``pykubelet``.

Every failure a user can cause or meet (no agent, a wrong --server, an unknown pod or container, no access
to the Docker socket, a closed pipe, Ctrl-C) ends in one ``error: ...`` line that says what to do and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from typing import Any

import yaml

from pykubelet.kubectl import crictl
from pykubelet.kubectl.client import DEFAULT_SERVER, AgentUnreachable, fetch_items, find_pod
from pykubelet.kubectl.describe import describe_pod
from pykubelet.kubectl.logs import LogsError, NeedsRoot, log_file, pick_container, stream_logs
from pykubelet.kubectl.printers import POD_HEADERS, WIDE_HEADERS, pod_row, since, table
from pykubelet.kubectl.selectors import SelectorError, parse_selector

SUBCOMMANDS = ("get", "describe", "logs", "crictl")
SERVER_HELP = f"the agent's read-only port (default {DEFAULT_SERVER})"
NAMESPACE_HELP = "the pod's namespace (default: default, as kubectl's)"
WATCH_PERIOD = 1.0  # seconds between looks at /pods for `get pods -w`


def is_subcommand(argv: list[str]) -> bool:
    """``pykubelet [--server URL] get|describe|logs ...`` rather than the agent's own flags."""
    rest = (
        argv[2:]
        if argv[:1] == ["--server"]
        else argv[1:]
        if argv[:1] and argv[0].startswith("--server=")
        else argv
    )
    return bool(rest) and rest[0] in SUBCOMMANDS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pykubelet", description="kubectl-style views of a running pykubelet.")
    p.add_argument("--server", default=DEFAULT_SERVER, help=SERVER_HELP)
    sub = p.add_subparsers(dest="command", required=True)
    get = sub.add_parser("get", help="list pods or events")
    get.add_argument("resource", choices=["pods", "pod", "po", "events", "event", "ev"])
    get.add_argument("name", nargs="?", help="one pod, by name")
    get.add_argument("-o", "--output", choices=["wide", "json", "yaml", "name"], help="output format")
    get.add_argument("-n", "--namespace", help=NAMESPACE_HELP)
    get.add_argument(
        "-A", "--all-namespaces", action="store_true", help="every namespace (a NAMESPACE column)"
    )
    get.add_argument("-l", "--selector", help="only pods whose labels match, e.g. app=web,tier!=db")
    get.add_argument("--show-labels", action="store_true", help="a LABELS column")
    get.add_argument(
        "-w", "--watch", action="store_true", help="after the list, print each change (Ctrl-C ends)"
    )
    describe = sub.add_parser("describe", help="show a pod in detail, with its events")
    describe.add_argument("resource", choices=["pod", "pods", "po"])
    describe.add_argument("name")
    describe.add_argument("-n", "--namespace", help=NAMESPACE_HELP)
    logs = sub.add_parser("logs", help="print a container's logs (from its log file on this machine)")
    logs.add_argument("pod")
    logs.add_argument("-c", "--container")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-p", "--previous", action="store_true", help="the previous, terminated instance")
    logs.add_argument("--tail", type=int, help="only the last N lines")
    logs.add_argument("--timestamps", action="store_true", help="each line after the time it was written")
    logs.add_argument("-n", "--namespace", help=NAMESPACE_HELP)
    logs.add_argument("--pod-logs-dir", help="the agent's --pod-logs-dir (default /var/log/pods)")
    for command in (get, describe, logs):  # like kubectl, --server also after the subcommand
        command.add_argument("--server", default=argparse.SUPPRESS, help=SERVER_HELP)
    crictl.add_parser(sub)  # talks to the CRI runtime, not to the agent: no --server
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)  # a bad flag: argparse's usage and exit 2
    try:
        code = {"get": _get, "describe": _describe, "logs": _logs, "crictl": crictl.run}[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return code
    except NeedsRoot as exc:
        print(f"error: {exc}: sudo pykubelet {shlex.join(argv)}", file=sys.stderr)
        return 1
    except (AgentUnreachable, LogsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C, e.g. ending `logs -f`
        return 130
    except BrokenPipeError:  # `pykubelet get pods | head -1`: stop quietly, as a tool killed by SIGPIPE
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _namespace(args: argparse.Namespace) -> str | None:
    """The namespace to look in: ``-n``, else kubectl's ``default``; None for ``-A`` (every one)."""
    if getattr(args, "all_namespaces", False):
        return None
    return args.namespace or "default"


def _pods(args: argparse.Namespace) -> list[dict[str, Any]]:
    namespace = _namespace(args)
    items = fetch_items(args.server, "/pods")
    pods = [p for p in items if namespace is None or p["metadata"].get("namespace") == namespace]
    selector = getattr(args, "selector", None)
    if selector:
        try:
            matches = parse_selector(selector)
        except SelectorError as exc:
            raise LogsError(f"{exc} (-l takes key=value, key!=value, key, !key, key in (a,b))") from None
        pods = [
            p
            for p in pods
            if matches({str(k): str(v) for k, v in (p["metadata"].get("labels") or {}).items()})
        ]
    return pods


def _one_pod(args: argparse.Namespace, name: str) -> dict[str, Any]:
    pod = find_pod(_pods(args), name, _namespace(args))
    if pod is None:
        where = f" in namespace {_namespace(args)}" if _namespace(args) else ""
        raise LogsError(
            f'pods "{name}" not found{where} (`pykubelet get pods -A` lists every pod of {args.server})'
        )
    return pod


def _get(args: argparse.Namespace) -> int:
    now = datetime.now(timezone.utc)
    if args.resource in ("events", "event", "ev"):
        items = fetch_items(args.server, "/events")
        if args.output in ("json", "yaml"):
            return _dump({"kind": "EventList", "apiVersion": "v1", "items": items}, args.output)
        rows = [
            [
                since(e.get("lastTimestamp"), now),
                e["type"],
                e["reason"],
                f"pod/{e['involvedObject']['name']}"
                if e["involvedObject"]["kind"] == "Pod"
                else f"file/{e['involvedObject']['name']}",
                e["message"],
            ]
            for e in items
        ]
        print(
            table(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], rows) if rows else "No events found."
        )
        return 0
    pods = [_one_pod(args, args.name)] if args.name else _pods(args)
    if args.output in ("json", "yaml"):
        payload = pods[0] if args.name else {"kind": "List", "apiVersion": "v1", "items": pods}
        return _dump(payload, args.output)
    if args.output == "name":
        print("\n".join(f"pod/{p['metadata']['name']}" for p in pods))
        return 0
    if not pods and not args.watch:
        namespace = _namespace(args)
        print("No resources found" + (f" in {namespace} namespace." if namespace else "."), file=sys.stderr)
        return 0
    print(_pod_table(args, pods, now))
    if args.watch:
        _watch(args, pods)
    return 0


def _pod_table(
    args: argparse.Namespace, pods: list[dict[str, Any]], now: datetime, headers: bool = True
) -> str:
    """``printPod`` rows, with kubectl's NAMESPACE column for ``-A`` and LABELS for ``--show-labels``."""
    wide = args.output == "wide"
    head = list(WIDE_HEADERS if wide else POD_HEADERS)
    rows = [pod_row(p, now, wide) for p in pods]
    if args.all_namespaces:
        head.insert(0, "NAMESPACE")
        rows = [[p["metadata"].get("namespace", ""), *row] for p, row in zip(pods, rows, strict=True)]
    if args.show_labels:
        head.append("LABELS")
        rows = [[*row, _labels(p)] for p, row in zip(pods, rows, strict=True)]
    text = table(head, rows)
    return text if headers else "\n".join(text.splitlines()[1:])


def _labels(pod: dict[str, Any]) -> str:
    labels = pod["metadata"].get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def _watch(args: argparse.Namespace, pods: list[dict[str, Any]]) -> None:
    """``-w``: a row for every pod whose status changed since it was last printed, until Ctrl-C."""
    seen = {p["metadata"]["uid"]: p.get("status") for p in pods}
    while True:
        sys.stdout.flush()
        time.sleep(WATCH_PERIOD)
        changed = []
        for pod in [_one_pod(args, args.name)] if args.name else _pods(args):
            if seen.get(pod["metadata"]["uid"]) != pod.get("status"):
                seen[pod["metadata"]["uid"]] = pod.get("status")
                changed.append(pod)
        if changed:
            print(_pod_table(args, changed, datetime.now(timezone.utc), headers=False))


def _describe(args: argparse.Namespace) -> int:
    pod = _one_pod(args, args.name)
    events = [
        e
        for e in fetch_items(args.server, "/events")
        if e["involvedObject"].get("uid") == pod["metadata"]["uid"]
    ]
    print(describe_pod(pod, events))
    return 0


def _logs(args: argparse.Namespace) -> int:
    pod = _one_pod(args, args.pod)
    container, instance = pick_container(pod, args.container, args.previous)
    path = log_file(pod, container, instance, args.pod_logs_dir)
    stream_logs(path, args.follow, args.tail, args.timestamps)
    return 0


def _dump(payload: Any, fmt: str) -> int:
    print(
        json.dumps(payload, indent=4) if fmt == "json" else yaml.safe_dump(payload, sort_keys=True), end="\n"
    )
    return 0
