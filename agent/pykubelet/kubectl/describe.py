"""``kubectl describe pod`` for a pod of the agent (``describe.go`` ``describePod``)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pykubelet.kubectl.printers import since, table
from pykubelet.runtime.api import parse_time


def _rfc1123z(value: str | None) -> str:
    moment = parse_time(value)
    return moment.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z") if moment else "<none>"


class _Writer:
    """Label/value lines at indent levels, aligned per block like kubectl's tabwriter."""

    def __init__(self) -> None:
        self.blocks: list[list[tuple[int, str, str | None]]] = [[]]

    def line(self, level: int, label: str, value: str | None = None) -> None:
        self.blocks[-1].append((level, label, value))

    def render(self) -> str:
        """Values align per block of consecutive label lines, 2 spaces past the longest label (tabwriter)."""
        out: list[str] = []
        block: list[tuple[int, str, str | None]] = []

        def flush() -> None:
            width = max((len("  " * lvl + label) + 1 for lvl, label, _ in block if label), default=0) + 2
            for level, label, value in block:
                head = "  " * level + label + ":" if label else ""
                out.append(head.ljust(width) + str(value))
            block.clear()

        for level, label, value in (r for b in self.blocks for r in b):
            if value is not None:
                block.append((level, label, value))
                continue
            flush()
            out.append("  " * level + label)
        flush()
        return "\n".join(out)


def _state(w: _Writer, label: str, state: dict[str, Any]) -> None:
    if "running" in state:
        w.line(2, label, "Running")
        w.line(3, "Started", _rfc1123z(state["running"].get("startedAt")))
    elif "waiting" in state:
        w.line(2, label, "Waiting")
        if state["waiting"].get("reason"):
            w.line(3, "Reason", state["waiting"]["reason"])
    elif "terminated" in state:
        t = state["terminated"]
        w.line(2, label, "Terminated")
        w.line(3, "Reason", t.get("reason", ""))
        if t.get("message"):
            w.line(3, "Message", t["message"].strip())
        w.line(3, "Exit Code", str(t.get("exitCode", 0)))
        w.line(3, "Started", _rfc1123z(t.get("startedAt")))
        w.line(3, "Finished", _rfc1123z(t.get("finishedAt")))


def _env_value(item: dict[str, Any]) -> str:
    ref = (item.get("valueFrom") or {}).get("fieldRef")
    if ref:
        return f"({ref.get('apiVersion', 'v1')}:{ref['fieldPath']})"
    if "valueFrom" in item:
        return json.dumps(item["valueFrom"], sort_keys=True)
    return str(item.get("value", ""))


def _containers(w: _Writer, title: str, specs: list[dict[str, Any]], statuses: list[dict[str, Any]]) -> None:
    if not specs:
        return
    w.line(0, title + ":")
    by_name = {s["name"]: s for s in statuses}
    for spec in specs:
        st = by_name.get(spec["name"])
        w.line(1, spec["name"] + ":")
        if st and st.get("containerID"):
            w.line(2, "Container ID", st["containerID"])
        w.line(2, "Image", spec["image"])
        if st and st.get("imageID"):
            w.line(2, "Image ID", st["imageID"])
        ports = spec.get("ports") or []
        label = "Ports" if len(ports) > 1 else "Port"
        w.line(
            2, label, ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"
        )
        host_label = "Host Ports" if len(ports) > 1 else "Host Port"
        w.line(
            2,
            host_label,
            ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>",
        )
        for key, name in (("command", "Command"), ("args", "Args")):
            if spec.get(key):
                w.line(2, name + ":")
                for part in spec[key]:
                    w.line(3, str(part))
        if st:
            _state(w, "State", st["state"])
            if "terminated" in st.get("lastState", {}):
                _state(w, "Last State", st["lastState"])
            w.line(2, "Ready", "True" if st.get("ready") else "False")
            w.line(2, "Restart Count", str(st.get("restartCount", 0)))
        for key, name in (("limits", "Limits"), ("requests", "Requests")):
            values = (spec.get("resources") or {}).get(key) or {}
            if values:
                w.line(2, name + ":")
                for resource in sorted(values):
                    w.line(3, resource, str(values[resource]))
        env = spec.get("env") or []
        if env:
            w.line(2, "Environment:")
            for item in env:
                w.line(3, item["name"], _env_value(item))
        else:
            w.line(2, "Environment", "<none>")
        mounts = sorted(spec.get("volumeMounts") or [], key=lambda m: m["mountPath"])
        if mounts:
            w.line(2, "Mounts:")
            for m in mounts:
                mode = "ro" if m.get("readOnly") else "rw"
                extra = f',path="{m["subPath"]}"' if m.get("subPath") else ""
                w.line(3, f"{m['mountPath']} from {m['name']} ({mode}{extra})")
        else:
            w.line(2, "Mounts", "<none>")


def _volume(w: _Writer, volume: dict[str, Any]) -> None:
    w.line(1, volume["name"] + ":")
    if "hostPath" in volume:
        w.line(2, "Type", "HostPath (bare host directory volume)")
        w.line(2, "Path", volume["hostPath"]["path"])
        w.line(2, "HostPathType", volume["hostPath"].get("type") or "")
    else:
        source = volume.get("emptyDir") or {}
        w.line(2, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)")
        w.line(2, "Medium", source.get("medium", ""))
        w.line(2, "SizeLimit", str(source.get("sizeLimit", "<unset>")))


def _tolerations(tolerations: list[dict[str, Any]]) -> list[str]:
    out = []
    for t in sorted(tolerations, key=lambda t: t.get("key", "")):
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists":
            text += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        out.append(text)
    return out


def describe_pod(pod: dict[str, Any], events: list[dict[str, Any]], now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
    w = _Writer()
    w.line(0, "Name", meta["name"])
    w.line(0, "Namespace", meta.get("namespace", "default"))
    host_ip = status.get("hostIP")
    w.line(0, "Node", f"{spec.get('nodeName')}/{host_ip}" if host_ip else spec.get("nodeName") or "<none>")
    if status.get("startTime"):
        w.line(0, "Start Time", _rfc1123z(status["startTime"]))
    labels = [f"{k}={v}" for k, v in sorted((meta.get("labels") or {}).items())] or ["<none>"]
    w.line(0, "Labels", labels[0])
    for extra in labels[1:]:
        w.line(0, "", extra)
    annotations = [f"{k}: {v}" for k, v in sorted((meta.get("annotations") or {}).items())] or ["<none>"]
    w.line(0, "Annotations", annotations[0])
    for extra in annotations[1:]:
        w.line(0, "", extra)
    w.line(0, "Status", status.get("phase", "Pending"))
    if status.get("reason"):
        w.line(0, "Reason", status["reason"])
    if status.get("message"):
        w.line(0, "Message", status["message"])
    w.line(0, "IP", status.get("podIP", ""))
    ips = status.get("podIPs") or []
    if ips:
        w.line(0, "IPs:")
        for ip in ips:
            w.line(1, "IP", ip["ip"])
    else:
        w.line(0, "IPs", "<none>")
    w.line(0, "Controlled By", f"Node/{spec.get('nodeName')}")
    _containers(
        w, "Init Containers", spec.get("initContainers") or [], status.get("initContainerStatuses") or []
    )
    _containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses") or [])
    text = w.render()
    conditions = status.get("conditions") or []
    if conditions:
        rows = [[c["type"], c["status"]] for c in conditions]
        text += "\nConditions:\n" + "\n".join(
            "  " + line for line in table(["Type", "Status"], rows).splitlines()
        )
    w2 = _Writer()
    volumes = spec.get("volumes") or []
    if volumes:
        w2.line(0, "Volumes:")
        for volume in volumes:
            _volume(w2, volume)
    else:
        w2.line(0, "Volumes", "<none>")
    w2.line(0, "QoS Class", status.get("qosClass", ""))
    selectors = [f"{k}={v}" for k, v in sorted((spec.get("nodeSelector") or {}).items())] or ["<none>"]
    w2.line(0, "Node-Selectors", ",".join(selectors))
    tolerations = _tolerations(spec.get("tolerations") or []) or ["<none>"]
    w2.line(0, "Tolerations", tolerations[0])
    for extra in tolerations[1:]:
        w2.line(0, "", extra)
    text += "\n" + w2.render() + "\n" + describe_events(events, now)
    return text


def describe_events(events: list[dict[str, Any]], now: datetime) -> str:
    if not events:
        return "Events:            <none>"
    rows = []
    for e in sorted(events, key=lambda e: e.get("lastTimestamp") or ""):
        first = since(e.get("firstTimestamp"), now)
        age = (
            f"{since(e.get('lastTimestamp'), now)} (x{e['count']} over {first})"
            if e.get("count", 1) > 1
            else first
        )
        rows.append(
            [
                e["type"],
                e["reason"],
                age,
                e.get("source", {}).get("component", "kubelet"),
                e["message"].strip(),
            ]
        )
    lines = table(
        ["Type", "Reason", "Age", "From", "Message"], [["----", "------", "----", "----", "-------"], *rows]
    )
    return "Events:\n" + "\n".join("  " + line for line in lines.splitlines())
