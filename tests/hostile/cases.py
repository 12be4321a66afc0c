"""The hostile inputs, as data: each one a name, what it sends and what the agent must say about it.

Both sources take the same manifest-content cases (a file in the manifest directory, or a PodList served at
``--manifest-url`` beside the canary pod), so one table drives both test modules and the property tests
reuse its building blocks. A case's ``build`` gets a :class:`Ctx` because several inputs aim at the canary
tree, which lives at a different place in every run.

``expect`` holds regular expressions that must all match the error the agent reports (its ``/manifests``
entry or a log line naming the source): the field path where there is a field, else the reason. ``bind``
cases may instead be accepted, as long as Docker's mount is exactly what was asked (see the tests).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

IMAGE = "busybox:1.35"
# exits at once on SIGTERM, so removing a pod costs no grace period
SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
MIB = 1024 * 1024


@dataclass(frozen=True)
class Ctx:
    """Where the run's directories are: the canary tree (outside every root dir) and the agent's pods dir."""

    canary: Path
    pods_dir: Path

    def up_to_canary(self, sub: str = "") -> str:
        """A relative path that climbs from the agent's pods dir to the canary tree."""
        return (
            os.path.relpath(self.canary / sub, self.pods_dir)
            if sub
            else os.path.relpath(self.canary, self.pods_dir)
        )


Content = bytes | dict[str, Any]


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Ctx], Content]
    expect: tuple[str, ...]
    bind: bool = False  # refused, or accepted with Docker's mount exactly as written
    url_drops_pods: bool = False  # at the URL it means "no pods" (upstream's zero-length body)
    sources: frozenset[str] = field(default_factory=lambda: frozenset({"file", "url"}))


def good_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": IMAGE, "command": list(SLEEP)}],
        },
    }


def with_volume(name: str, volume: dict[str, Any], mount: dict[str, Any]) -> dict[str, Any]:
    pod = good_pod(name)
    pod["spec"]["volumes"] = [volume]
    pod["spec"]["containers"][0]["volumeMounts"] = [mount]
    return pod


def _set(path: str, value: Any, base: dict[str, Any] | None = None) -> Callable[[Ctx], Content]:
    """A builder: the good pod with one field (dotted path, ``[i]`` for list items) set to ``value``."""

    def build(ctx: Ctx) -> Content:
        pod = copy.deepcopy(base) if base is not None else good_pod("hostile")
        target: Any = pod
        keys = path.replace("[", ".").replace("]", "").split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target.setdefault(key, {})
        final = value(ctx) if callable(value) else value
        target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = final
        return pod

    return build


def _text(text: str) -> Callable[[Ctx], Content]:
    return lambda ctx: text.encode()


def _raw(data: bytes) -> Callable[[Ctx], Content]:
    return lambda ctx: data


EMPTY_DIR_POD = with_volume(
    "hostile", {"name": "data", "emptyDir": {}}, {"name": "data", "mountPath": "/data"}
)


def _host_path_pod(path: str = "/tmp", mount: str = "/data", sub: str | None = None) -> dict[str, Any]:
    mount_spec: dict[str, Any] = {"name": "host", "mountPath": mount}
    if sub is not None:
        mount_spec["subPath"] = sub
    return with_volume("hostile", {"name": "host", "hostPath": {"path": path}}, mount_spec)


POD_META = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hostile\n"
POD_SPEC = (
    f"spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: app\n      image: {IMAGE}\n"
)
POD_HEAD = POD_META + POD_SPEC


def _alias_bomb() -> str:
    """The 'billion laughs': nine levels of nine aliases, a few hundred bytes, 9**9 values when walked."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    body = "\n".join(f"    {line}" for line in lines)
    return POD_HEAD.replace(
        "metadata:\n  name: hostile\n", f"metadata:\n  name: hostile\n  labels:\n{body}\n"
    )


def _many_values(size: int) -> bytes:
    """A Pod with a label that is a flow list of ``0,`` up to ``size`` bytes: millions of values."""
    head = POD_META + "  labels:\n    x: ["
    tail = "0]\n" + POD_SPEC
    count = (size - len(head) - len(tail)) // 2
    data = (head + "0," * count + tail).encode()
    return data + b" " * (size - len(data))


def _one_string(size: int) -> bytes:
    """A Pod whose one annotation fills the file to ``size`` bytes: cheap to parse, too big to keep."""
    head = POD_META + "  annotations:\n    big: "
    tail = "\n" + POD_SPEC
    return (head + "x" * (size - len(head) - len(tail)) + tail).encode()


def _deep_yaml(depth: int) -> str:
    return POD_HEAD.replace(
        "metadata:\n  name: hostile\n", f"metadata:\n  name: hostile\n  labels: {'[' * depth}{']' * depth}\n"
    )


def _deep_json(depth: int) -> bytes:
    pod = json.dumps(good_pod("hostile"))
    return (pod[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}").encode()


def _big_int_json(digits: int) -> bytes:
    pod = good_pod("hostile")
    pod["spec"]["terminationGracePeriodSeconds"] = 0
    return (
        json.dumps(pod)
        .replace('"terminationGracePeriodSeconds": 0', f'"terminationGracePeriodSeconds": {"9" * digits}')
        .encode()
    )


UID = r"metadata\.uid"
SUBPATH = r"spec\.containers\[0\]\.volumeMounts\[0\]\.subPath"
MOUNTPATH = r"spec\.containers\[0\]\.volumeMounts\[0\]\.mountPath"
HOSTPATH = r"spec\.volumes\[0\]\.hostPath\.path"

CONTENT_CASES: list[Case] = [
    # -- identity: the uid, names and namespaces become directory names ------------------------------
    Case("uid-absolute-path", _set("metadata.uid", lambda c: str(c.canary / "dir"), EMPTY_DIR_POD), (UID,)),
    Case("uid-dotdot", _set("metadata.uid", "../../..", EMPTY_DIR_POD), (UID,)),
    Case(
        "uid-dotdot-to-canary", _set("metadata.uid", lambda c: c.up_to_canary("dir"), EMPTY_DIR_POD), (UID,)
    ),
    Case("uid-dot", _set("metadata.uid", ".", EMPTY_DIR_POD), (UID,)),
    Case("uid-with-nul", _set("metadata.uid", "0123\x00/../../x", EMPTY_DIR_POD), (UID,)),
    Case("uid-very-long", _set("metadata.uid", "f" * 5000, EMPTY_DIR_POD), (UID,)),
    Case("uid-with-slash", _set("metadata.uid", "abc/def", EMPTY_DIR_POD), (UID,)),
    Case("name-dotdot", _set("metadata.name", "../../x"), (r"metadata\.name",)),
    Case("name-to-canary", _set("metadata.name", lambda c: c.up_to_canary()), (r"metadata\.name",)),
    Case("namespace-dotdot", _set("metadata.namespace", ".."), (r"metadata\.namespace",)),
    Case(
        "namespace-to-canary",
        _set("metadata.namespace", lambda c: c.up_to_canary()),
        (r"metadata\.namespace",),
    ),
    Case(
        "container-name-to-canary",
        _set("spec.containers[0].name", lambda c: c.up_to_canary()),
        (r"spec\.containers\[0\]\.name",),
    ),
    Case(
        "volume-name-to-canary",
        lambda c: with_volume(
            "hostile",
            {"name": c.up_to_canary(), "emptyDir": {}},
            {"name": c.up_to_canary(), "mountPath": "/d"},
        ),
        (r"spec\.volumes\[0\]\.name",),
    ),
    # -- volume paths: a bind string is host:container[:options] ------------------------------------
    Case("hostpath-colon", lambda c: _host_path_pod(f"{c.canary}/dir:/etc"), (HOSTPATH,), bind=True),
    Case("hostpath-comma", lambda c: _host_path_pod(f"{c.canary}/dir,ro"), (HOSTPATH,), bind=True),
    Case("mountpath-colon", lambda c: _host_path_pod("/tmp", "/data:rw"), (MOUNTPATH,), bind=True),
    Case("mountpath-comma", lambda c: _host_path_pod("/tmp", "/data,z"), (MOUNTPATH,), bind=True),
    Case("subpath-colon", lambda c: _host_path_pod("/tmp", "/data", "a:/etc"), (SUBPATH,), bind=True),
    Case("subpath-comma", lambda c: _host_path_pod("/tmp", "/data", "a,ro"), (SUBPATH,), bind=True),
    Case("subpath-dotdot", lambda c: _host_path_pod(str(c.canary / "dir"), "/data", "../../.."), (SUBPATH,)),
    Case("subpath-absolute", lambda c: _host_path_pod("/tmp", "/data", str(c.canary)), (SUBPATH,)),
    # -- the decoder: YAML and JSON that cost or crash -------------------------------------------------
    Case("alias-bomb", _text(_alias_bomb()), (r"too large|alias|values",)),
    Case(
        "self-alias",
        _text(POD_HEAD.replace("name: hostile\n", "name: hostile\n  annotations: &a {x: *a}\n")),
        (r"too large|alias|recursi|nested|deep",),
    ),
    Case("deep-nesting-yaml", _text(_deep_yaml(5000)), (r"nested|deep|depth",)),
    Case("deep-nesting-json", _raw(_deep_json(100_000)), (r"nested|deep|depth",)),
    Case(
        "int-5000-digits-yaml",
        _text(
            POD_HEAD.replace(
                "  terminationGracePeriodSeconds: 1\n", f"  terminationGracePeriodSeconds: {'9' * 5000}\n"
            )
        ),
        (r"line \d+|terminationGracePeriodSeconds",),
    ),
    Case(
        "int-5000-digits-json",
        _raw(_big_int_json(5000)),
        (r"digits|integer|number|terminationGracePeriodSeconds",),
    ),
    Case(
        "float-overflow",
        _raw(
            _big_int_json(1).replace(
                b'"terminationGracePeriodSeconds": 9', b'"terminationGracePeriodSeconds": 1e999'
            )
        ),
        (r"terminationGracePeriodSeconds",),
    ),
    Case(
        "date-in-creation-timestamp",
        _text(
            POD_HEAD.replace(
                "name: hostile\n",
                "name: hostile\n  creationTimestamp: 2024-01-01\n  labels: {d: 2024-01-01x}\n",
            )
        ),
        (),
    ),
    Case(
        "binary-tag",
        _text(
            POD_HEAD.replace("name: hostile\n", "name: hostile\n  annotations: {blob: !!binary aGVsbG8=}\n")
        ),
        (r"metadata\.annotations\.blob",),
    ),
    Case(
        "python-object-tag",
        lambda c: (
            POD_HEAD.replace(
                "name: hostile\n",
                f"name: hostile\n  annotations:\n    x: !!python/object/apply:os.system "
                f"['touch {c.canary}/pwned']\n",
            )
        ).encode(),
        (r"line \d+|tag|python",),
    ),
    Case(
        "set-tag",
        _text(POD_HEAD.replace("name: hostile\n", "name: hostile\n  annotations: {s: !!set {a, b}}\n")),
        (r"metadata\.annotations\.s",),
    ),
    Case("duplicate-key-yaml", _text(POD_HEAD + "      image: nginx:1.22\n"), (r"duplicate key",)),
    Case(
        "duplicate-key-json",
        _raw(
            json.dumps(good_pod("hostile")).replace('"kind": "Pod"', '"kind": "Pod", "kind": "Pod"').encode()
        ),
        (r"duplicate key",),
    ),
    Case("non-utf8", _raw(POD_HEAD.encode().replace(b"hostile", b"host\xffile")), (r"UTF-8",)),
    Case("nul-bytes", _raw(POD_HEAD.encode().replace(b"hostile", b"host\x00ile")), (r"NUL",)),
    Case("utf16-text", _raw(POD_HEAD.encode("utf-16")), (r"NUL|UTF",)),
    Case("two-documents", _text(POD_HEAD + "---\n" + POD_HEAD), (r"one Pod|documents",)),
    Case("not-a-pod-kind", _text(POD_HEAD.replace("kind: Pod", "kind: Deployment")), (r"kind",)),
    Case("json-array", _raw(b"[1, 2, 3]"), (r"mapping|Pod",)),
    Case("many-values-10mib", lambda c: _many_values(10 * MIB), (r"too large|too many|values|limit|MiB",)),
    Case(
        "one-string-10mib",
        lambda c: _one_string(10 * MIB),
        (r"metadata\.annotations|too (large|long)|limit|MiB",),
    ),
    Case("file-11mib", lambda c: _one_string(11 * MIB), (r"10 MiB|limit|too large|over",)),
    Case("empty", _raw(b""), (r"empty|zero-length",), url_drops_pods=True),
]


def content_bytes(content: Content) -> bytes:
    return content if isinstance(content, bytes) else yaml.safe_dump(content).encode()


def case_ids(cases: list[Case], source: str) -> list[Case]:
    return [c for c in cases if source in c.sources]
