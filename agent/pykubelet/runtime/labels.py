"""The labels and annotations that make the runtime the source of truth for a pod (``kuberuntime/labels.go``).

The kubelet puts a pod's identity into CRI labels (``io.kubernetes.pod.uid``, ``...container.name``) and
what it needs to manage a container later into annotations (the spec hash, the restart count, the preStop
handler, the termination-message settings). Both are read back after a restart, so nothing lives only
in memory. How a runtime stores them is its business: dockershim wrote annotations as Docker labels with
an ``annotation.`` prefix (``runtime/docker/convert.py``), a CRI runtime keeps them apart.
"""

from __future__ import annotations

import json
from typing import Any

from pykubelet.manifest import StaticPod

POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_UID = "io.kubernetes.pod.uid"
CONTAINER_NAME = "io.kubernetes.container.name"

CONTAINER_HASH = "io.kubernetes.container.hash"
RESTART_COUNT = "io.kubernetes.container.restartCount"
TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY = "io.kubernetes.container.terminationMessagePolicy"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"
PRESTOP_HANDLER = "io.kubernetes.container.preStopHandler"
PORTS = "io.kubernetes.container.ports"
# Never written: neither the 1.20 kubelet nor the current one labels a container init or app (the pod
# spec says which). Kept so readers of containers made by older pykubelets still parse them.
CONTAINER_KIND = "io.kubernetes.container.type"

# pykubelet's one label of its own, on every sandbox and container. It scopes an agent to its
# containers, so two agents (or a test and a developer's agent) can share one engine; the ``io.pykubelet``
# prefix tells a reader at once that the kubelet never wrote it. (An ``io.pykubelet.source`` label once
# named the pod's file source; nothing read it back, since the pod's own annotation
# ``kubernetes.io/config.source`` already says so.)
NODE = "io.pykubelet.node"

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def sandbox_labels(pod: StaticPod, node: str) -> dict[str, str]:
    """``newPodLabels``: the pod's own labels plus its identity."""
    labels = {str(k): str(v) for k, v in (pod.metadata.get("labels") or {}).items()}
    labels.update({POD_NAME: pod.name, POD_NAMESPACE: pod.namespace, POD_UID: pod.uid, NODE: node})
    return labels


def sandbox_annotations(pod: StaticPod) -> dict[str, str]:
    """``newPodAnnotations``: the pod's own annotations, nothing else (the grace period a kill needs is on
    each container, and a sandbox is stopped with dockershim's fixed 10 s)."""
    return {str(k): str(v) for k, v in (pod.metadata.get("annotations") or {}).items()}


def container_labels(pod: StaticPod, container: dict[str, Any], node: str) -> dict[str, str]:
    """``newContainerLabels``: which pod and which container of it."""
    return {
        POD_NAME: pod.name,
        POD_NAMESPACE: pod.namespace,
        POD_UID: pod.uid,
        CONTAINER_NAME: container["name"],
        NODE: node,
    }


def container_annotations(pod: StaticPod, container: dict[str, Any], *, restart_count: int) -> dict[str, str]:
    """``newContainerAnnotations`` (1.20, and the same keys today): what managing the container later
    needs, kept in the runtime. Insertion order is the kubelet's, so ``docker inspect`` lists them alike."""
    annotations = {
        CONTAINER_HASH: container_hash(container),
        RESTART_COUNT: str(restart_count),
        TERMINATION_MESSAGE_PATH: container.get("terminationMessagePath", "/dev/termination-log"),
        TERMINATION_MESSAGE_POLICY: container.get("terminationMessagePolicy", "File"),
        GRACE_PERIOD: str(pod.grace_period),
    }
    pre_stop = (container.get("lifecycle") or {}).get("preStop")
    if pre_stop:
        annotations[PRESTOP_HANDLER] = go_json(pre_stop)
    if container.get("ports"):
        annotations[PORTS] = go_json(container["ports"])
    return annotations


def go_json(value: Any) -> str:
    """JSON as Go's ``json.Marshal`` writes it: compact, UTF-8 kept, and ``<``, ``>``, ``&``, U+2028 and
    U+2029 escaped (Go's HTML-safe default), so ``sh -c 'a && b'`` shows as ``a \\u0026\\u0026 b``
    exactly as on a real node. Keys keep the spec's order (Go's is its struct's field order)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash (Go's ``hash/fnv.New32a``), the kubelet's container hash function."""
    value = _FNV32_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return value


def container_hash(container: dict[str, Any]) -> str:
    """``HashContainer``: FNV-1a over the container spec, as ``strconv.FormatUint(uint64(h), 16)`` prints it
    (lower-case hex, no zero padding). A changed spec under the same pod uid means a restart.

    The kubelet hashes its Go struct (fields in a fixed order, so a manifest's key order never matters);
    sorted keys give the same property here. The bytes hashed differ from Go's, so the value does not
    equal a real node's for the same spec, but its shape does.
    """
    canonical = json.dumps(container, sort_keys=True, separators=(",", ":"))
    return format(fnv32a(canonical.encode()), "x")


def grace_period(annotations: dict[str, str], default: int = 30) -> int:
    """The grace period a container was created with (an annotation: it outlives the agent)."""
    try:
        return int(annotations.get(GRACE_PERIOD, default))
    except ValueError:
        return default
