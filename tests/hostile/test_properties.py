"""Property tests: valid-ish Pods with hostile values, through both sources' decode and validate path.

No Docker: the bytes go where each source sends them (``load_pod`` for a manifest file, ``load_pods`` for
a ``--manifest-url`` body, alone or in a PodList). Whatever hypothesis puts in names, namespaces, uids,
volume names, host and container paths, subPaths, numbers and annotations, the outcome is one of two:

- a :class:`ManifestError` naming the source, or
- a valid pod whose uid has a uid's shape (32 hex digits or a UUID), so that every path the agent builds
  from it (pod dir, emptyDirs, container dirs, the pod's log dir, subPaths) stays under its base.

Any other exception is the bug this file exists to find: the agent's sources catch ManifestError only.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pykubelet.manifest import ManifestError, StaticPod, load_pod, load_pods
from tests.hostile.cases import good_pod

FILE_SOURCE = "/etc/kubernetes/manifests/hostile.yaml"
URL_SOURCE = "http://127.0.0.1:8080/pods.yaml"
NODE = "prop-node"
ROOT = "/var/lib/pykubelet"
LOGS = "/var/log/pods"
UID_SHAPE = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
HUGE = "H0GE1NT"  # replaced by a 5000-digit integer once serialised (json.dumps refuses to write one)
EMPTY_DIR = "kubernetes.io~empty-dir"

SEEDS = [
    "..",
    "../../..",
    ".",
    "/",
    "/etc",
    "a/b",
    "a\x00b",
    "x" * 300,
    "a:b",
    "a,b",
    "/tmp:/etc:rw",
    "-rf",
    "$(touch /tmp/pwned)",
    "\n",
    " ",
    "",
    "..\\..",
    "%2e%2e",
    "\u2215etc",
    "web",
    "default",
    "ok-name",
    "3f2b8a4e-6c1d-4e9a-b7f0-1a2b3c4d5e6f\n",
    "0" * 32 + "/..",
    "A" * 32,
    "3F2B8A4E-6C1D-4E9A-B7F0-1A2B3C4D5E6F",
]
hostile_text = st.one_of(
    st.sampled_from(SEEDS),
    st.lists(st.sampled_from(["..", ".", "a", "", "etc", "x:y", "b,c"]), max_size=6).map("/".join),
    st.text(alphabet=st.sampled_from("./\\:,\x00-_aZ09 ~*&!\n"), max_size=24),
    st.text(max_size=16),
)
uids = st.one_of(hostile_text, st.uuids().map(str), st.text("0123456789abcdef", min_size=32, max_size=32))
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(HUGE),
    hostile_text,
)


@st.composite
def hostile_pods(draw: st.DrawFn) -> dict[str, Any]:
    pod = good_pod("prop")
    meta, spec = pod["metadata"], pod["spec"]
    container = spec["containers"][0]
    for key, strategy in (("name", hostile_text), ("namespace", hostile_text), ("uid", uids)):
        if draw(st.booleans()):
            meta[key] = draw(strategy)
    if draw(st.booleans()):
        meta["annotations"] = {draw(hostile_text): draw(hostile_text)}
    if draw(st.booleans()):
        container["name"] = draw(hostile_text)
    if draw(st.booleans()):
        spec["terminationGracePeriodSeconds"] = draw(numbers)
    volumes, mounts = [], []
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.one_of(st.just("data"), hostile_text))
        if draw(st.booleans()):
            volumes.append(
                {"name": name, "hostPath": {"path": draw(st.one_of(st.just("/tmp"), hostile_text))}}
            )
        else:
            volumes.append({"name": name, "emptyDir": {}})
        mount: dict[str, Any] = {"name": name, "mountPath": draw(st.one_of(st.just("/data"), hostile_text))}
        if draw(st.booleans()):
            mount["subPath"] = draw(hostile_text)
        mounts.append(mount)
    if volumes:
        spec["volumes"] = volumes
        container["volumeMounts"] = mounts
    return pod


def serialise(pod: dict[str, Any], as_json: bool) -> bytes:
    text = json.dumps(pod) if as_json else yaml.safe_dump(pod)
    return text.replace(f'"{HUGE}"', "9" * 5000).replace(HUGE, "9" * 5000).encode()


def under(base: str, *parts: str) -> bool:
    """``base/parts`` is ``base`` or below it, once ``..`` is resolved (parts are used as the agent does)."""
    path = os.path.normpath(os.path.join(base, *parts))
    return "\0" not in path and path.startswith(base.rstrip("/") + "/")


def assert_safe(pod: StaticPod) -> None:
    """The uid has a uid's shape and every path derived from the pod stays under its base."""
    assert UID_SHAPE.fullmatch(pod.uid), f"uid {pod.uid!r} is not 32 hex digits or a UUID"
    pod_dir = ("pods", pod.uid)
    assert under(ROOT, *pod_dir)
    assert under(LOGS, f"{pod.namespace}_{pod.name}_{pod.uid}")
    volumes = {v["name"]: v for v in pod.spec.get("volumes") or []}
    for name, volume in volumes.items():
        if "hostPath" not in volume:
            assert under(ROOT, *pod_dir, "volumes", EMPTY_DIR, name), f"emptyDir {name!r} leaves the root"
    for container in pod.spec["containers"] + pod.spec.get("initContainers", []):
        assert under(ROOT, *pod_dir, "containers", container["name"])
        assert under(LOGS, f"{pod.namespace}_{pod.name}_{pod.uid}", container["name"])
        for mount in container.get("volumeMounts") or []:
            sub = mount.get("subPath") or ""
            if sub:
                assert under("/volume", sub), f"subPath {sub!r} leaves its volume"
            for text in (mount["mountPath"], sub, volumes[mount["name"]].get("hostPath", {}).get("path", "")):
                assert ":" not in text and "," not in text, f"{text!r} would change a Docker bind string"


def check(result: StaticPod | ManifestError, source: str) -> None:
    if isinstance(result, ManifestError):
        event("refused")
        assert result.source == source and result.errors, result
    else:
        event("accepted")
        assert_safe(result)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(pod=hostile_pods(), as_json=st.booleans())
def test_file_source_decode_and_validate(pod: dict[str, Any], as_json: bool) -> None:
    try:
        result: StaticPod | ManifestError = load_pod(serialise(pod, as_json), FILE_SOURCE, NODE)
    except ManifestError as exc:
        result = exc
    check(result, FILE_SOURCE)


@PROPERTY
@given(pod=hostile_pods(), as_json=st.booleans(), in_list=st.booleans())
def test_url_source_decode_and_validate(pod: dict[str, Any], as_json: bool, in_list: bool) -> None:
    body: dict[str, Any] = (
        {"apiVersion": "v1", "kind": "PodList", "items": [good_pod("neighbour"), pod]} if in_list else pod
    )
    try:
        results = load_pods(serialise(body, as_json), URL_SOURCE, NODE)
    except ManifestError as exc:
        results = [exc]
    for result in results:
        check(result, URL_SOURCE)
    if in_list and len(results) == 2:
        neighbour = results[0]
        assert isinstance(neighbour, StaticPod), f"one bad item took its good neighbour down: {neighbour}"
