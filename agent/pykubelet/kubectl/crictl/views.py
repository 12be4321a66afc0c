"""crictl's wording and views, pure: CRI messages in, the text crictl would print out.

Everything here follows cri-tools' cmd/crictl (sandbox.go, container.go, image.go, util.go, display.go):
its column names and order, its tabwriter settings, its 13-character ids, docker/go-units' durations
and sizes, and the JSON it prints for ``inspectp``/``inspect`` (protojson's camelCase, int64 as strings,
enum names, times as RFC 3339, every key sorted as Go's map marshalling sorts them). Nothing here talks
to a runtime, so all of it is unit-tested from messages built in the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml
from cri_api.v1 import api_pb2 as pb
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

MIN_WIDTH, PADDING = 20, 3  # crictl's tabwriter.NewWriter(os.Stdout, 20, 1, 3, ' ', 0)
TRUNCATED_ID = 13
POD_NAME, POD_NAMESPACE = "io.kubernetes.pod.name", "io.kubernetes.pod.namespace"
POD_HEADERS = ["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]
PS_HEADERS = ["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD", "NAMESPACE"]
IMAGE_HEADERS = ["IMAGE", "TAG", "IMAGE ID", "SIZE"]
POD_STATES = {pb.SANDBOX_READY: "Ready", pb.SANDBOX_NOTREADY: "NotReady"}
CONTAINER_STATES = {
    pb.CONTAINER_CREATED: "Created",
    pb.CONTAINER_RUNNING: "Running",
    pb.CONTAINER_EXITED: "Exited",
    pb.CONTAINER_UNKNOWN: "Unknown",
}
_DIGEST = re.compile(r"(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})")


def human_duration(seconds: float) -> str:
    """docker/go-units ``HumanDuration``, which crictl prints with " ago" in its CREATED column."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float) -> str:
    """docker/go-units ``HumanSizeWithPrecision(size, 3)``: decimal units, three significant digits."""
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.3g}{units[i]}"


def truncated(value: str, prefix: str = "") -> str:
    """crictl's ``getTruncatedID``: drop ``prefix``, keep 13 characters."""
    return value.removeprefix(prefix)[:TRUNCATED_ID]


def ago(created_ns: int, now: float) -> str:
    return human_duration(now - created_ns / 1e9) + " ago"


def rfc3339nano(ns: int) -> str:
    """Go's ``time.Unix(0, ns).Format(time.RFC3339Nano)`` in local time (trailing zeros dropped)."""
    secs, nanos = divmod(ns, 10**9)
    moment = datetime.fromtimestamp(secs, timezone.utc).astimezone()  # Go's Local zone at that moment
    fraction = f".{nanos:09d}".rstrip("0").rstrip(".")
    offset = moment.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        zone = "Z"
    else:
        sign, total = ("-", -offset) if offset < timedelta(0) else ("+", offset)
        zone = f"{sign}{int(total.total_seconds()) // 3600:02d}:{int(total.total_seconds()) % 3600 // 60:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone


def tabulate(rows: Sequence[Sequence[str]]) -> str:
    """Go's tabwriter as crictl sets it up: columns at least 20 wide, 3 spaces padding, the last bare."""
    if not rows:
        return ""
    widths = [max(MIN_WIDTH, max(len(r[i]) for r in rows) + PADDING) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + row[-1]
        for row in rows
    )


def message_dict(message: Message) -> dict[str, Any]:
    """protojson with EmitDefaultValues, as crictl marshals: camelCase keys, int64 as strings, enum names.

    Keys in field-number order and map keys sorted, as protojson writes them (Python lists the set
    fields first, and map entries as stored).
    """
    return _in_field_order(message, MessageToDict(message, always_print_fields_with_no_presence=True))


def _in_field_order(message: Message, data: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        if field.json_name not in data:
            continue
        value, nested = data[field.json_name], getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = dict(sorted(value.items()))  # protojson sorts map keys
        elif field.message_type is not None:
            if isinstance(value, list):
                value = [_in_field_order(m, v) for m, v in zip(nested, value, strict=True)]
            elif isinstance(value, dict):
                value = _in_field_order(nested, value)
        ordered[field.json_name] = value
    return ordered


def go_json(value: Any, *, sort_keys: bool) -> str:
    """``json.MarshalIndent`` of Go: two-space indent, and ``<``, ``>``, ``&`` escaped as Go escapes them."""
    text = json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- the views ---------------------------------------------------------------------------------------------


def pods_table(sandboxes: Iterable[Any], now: float, no_trunc: bool = False) -> str:
    """``crictl pods``: newest first."""
    rows = [POD_HEADERS]
    for s in sorted(sandboxes, key=lambda s: s.created_at, reverse=True):
        rows.append(
            [
                s.id if no_trunc else truncated(s.id),
                ago(s.created_at, now),
                POD_STATES.get(s.state, str(s.state)),
                s.metadata.name,
                s.metadata.namespace,
                str(s.metadata.attempt),
                s.runtime_handler or "(default)",
            ]
        )
    return tabulate(rows)


def containers_table(containers: Iterable[Any], now: float, no_trunc: bool = False) -> str:
    """``crictl ps``: newest first; the image is the runtime's image id, shortened when it is a digest."""
    rows = [PS_HEADERS]
    for c in sorted(containers, key=lambda c: c.created_at, reverse=True):
        image, cid, pod_id = c.image.image, c.id, c.pod_sandbox_id
        if not no_trunc:
            cid, pod_id = truncated(cid), truncated(pod_id)
            if _DIGEST.fullmatch(image):
                image = truncated(image, image.split(":", 1)[0] + ":")
        rows.append(
            [
                cid,
                image,
                ago(c.created_at, now),
                CONTAINER_STATES.get(c.state, str(c.state)),
                c.metadata.name,
                str(c.metadata.attempt),
                pod_id,
                c.labels.get(POD_NAME, "unknown"),
                c.labels.get(POD_NAMESPACE, "unknown"),
            ]
        )
    return tabulate(rows)


def sorted_images(images: Iterable[Any]) -> list[Any]:
    """crictl's ``imageByRef`` order: by first repo tag, else first digest, else id."""

    def key(image: Any) -> tuple[int, str]:
        if image.repo_tags:
            return (0, image.repo_tags[0])
        if image.repo_digests:
            return (1, image.repo_digests[0])
        return (2, image.id)

    return sorted(images, key=key)


def images_table(images: Iterable[Any], no_trunc: bool = False) -> str:
    """``crictl images``: one row per repo tag (``<none>`` for an untagged image)."""
    rows = [IMAGE_HEADERS]
    for image in sorted_images(images):
        name = image.repo_digests[0].split("@")[0] if image.repo_digests else "<none>"
        image_id = image.id if no_trunc else truncated(image.id, "sha256:")
        for tag in image.repo_tags or [f"{name}:<none>"]:
            repo, _, version = tag.rpartition(":")
            if not repo:
                repo, version = "errorRepoTag", "errorRepoTag"
            rows.append([name if repo == "<none>" else repo, version, image_id, human_size(image.size)])
    return tabulate(rows)


def status_document(status: Message, info: dict[str, str]) -> dict[str, Any]:
    """crictl's ``inspectp``/``inspect`` document: the status (times as RFC 3339) beside the runtime's info.

    Unset message fields are ``null``, as crictl's field-order marshal writes them; info values that hold
    JSON objects are parsed, others unquoted.
    """
    body: dict[str, Any] = dict.fromkeys((f.json_name for f in status.DESCRIPTOR.fields), None)
    body.update(message_dict(status))
    body["createdAt"] = rfc3339nano(getattr(status, "created_at", 0))
    if isinstance(status, pb.ContainerStatus):
        started = status.state != pb.CONTAINER_CREATED
        finished = status.state == pb.CONTAINER_EXITED or (
            status.state == pb.CONTAINER_UNKNOWN and status.finished_at > 0
        )
        body["startedAt"] = rfc3339nano(status.started_at) if started else "0001-01-01T00:00:00Z"
        body["finishedAt"] = rfc3339nano(status.finished_at) if finished else "0001-01-01T00:00:00Z"
    document: dict[str, Any] = {"status": body}
    for key, value in info.items():
        document[key] = json.loads(value) if value.startswith("{") else value.strip('"')
    return document


def dump(value: Any, output: str, *, sort_keys: bool) -> str:
    return yaml.safe_dump(value, sort_keys=True) if output == "yaml" else go_json(value, sort_keys=sort_keys)
