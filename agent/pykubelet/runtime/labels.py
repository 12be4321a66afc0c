"""The labels and annotations that make the runtime the source of truth for a pod (``kuberuntime/labels.go``).

The kubelet puts a pod's identity into CRI labels (``io.kubernetes.pod.uid``, ``...container.name``) and
what it needs to manage a container later into annotations (the spec hash, the restart count, the preStop
handler, the termination-message settings). Both are read back after a restart, so nothing lives only
in memory. How a runtime stores them is its business: dockershim wrote annotations as Docker labels with
an ``annotation.`` prefix (``runtime/docker/convert.py``), a CRI runtime keeps them apart.
"""

from __future__ import annotations

import hashlib
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
CONTAINER_KIND = "io.kubernetes.container.type"  # "init" | "container", as newer kubelets write it

# pykubelet's own keys. The node label scopes an agent to its containers, so two agents (or a test
# and a developer's agent) can share one engine; the source label lets a restart know which file a
# running pod came from before the manifest directory has been read.
NODE = "io.pykubelet.node"
SOURCE = "io.pykubelet.source"


def sandbox_labels(pod: StaticPod, node: str) -> dict[str, str]:
    """``newPodLabels``: the pod's own labels plus its identity."""
    labels = {str(k): str(v) for k, v in (pod.metadata.get("labels") or {}).items()}
    labels.update({POD_NAME: pod.name, POD_NAMESPACE: pod.namespace, POD_UID: pod.uid})
    labels.update({NODE: node, SOURCE: pod.source})
    return labels


def sandbox_annotations(pod: StaticPod) -> dict[str, str]:
    """``newPodAnnotations``: the pod's own annotations (and the grace period, to stop it after a restart)."""
    annotations = {str(k): str(v) for k, v in (pod.metadata.get("annotations") or {}).items()}
    annotations[GRACE_PERIOD] = str(pod.grace_period)
    return annotations


def container_labels(pod: StaticPod, container: dict[str, Any], node: str) -> dict[str, str]:
    """``newContainerLabels``: which pod and which container of it."""
    return {
        POD_NAME: pod.name,
        POD_NAMESPACE: pod.namespace,
        POD_UID: pod.uid,
        CONTAINER_NAME: container["name"],
        NODE: node,
        SOURCE: pod.source,
    }


def container_annotations(
    pod: StaticPod, container: dict[str, Any], *, restart_count: int, kind: str
) -> dict[str, str]:
    """``newContainerAnnotations``: what managing the container later needs, kept in the runtime."""
    annotations = {
        CONTAINER_HASH: container_hash(container),
        RESTART_COUNT: str(restart_count),
        TERMINATION_MESSAGE_PATH: container.get("terminationMessagePath", "/dev/termination-log"),
        TERMINATION_MESSAGE_POLICY: container.get("terminationMessagePolicy", "File"),
        GRACE_PERIOD: str(pod.grace_period),
        CONTAINER_KIND: kind,
    }
    pre_stop = (container.get("lifecycle") or {}).get("preStop")
    if pre_stop:
        annotations[PRESTOP_HANDLER] = json.dumps(pre_stop, sort_keys=True)
    if container.get("ports"):
        annotations[PORTS] = json.dumps(container["ports"], sort_keys=True)
    return annotations


def container_hash(container: dict[str, Any]) -> str:
    """A stable hash of a container's spec: a changed spec under the same pod uid means a restart.

    The kubelet hashes the Go struct with fnv32a; any stable hash of the canonical JSON serves the
    same purpose (notice a spec change), so the hex looks alike but is not byte-identical.
    """
    canonical = json.dumps(container, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def grace_period(annotations: dict[str, str], default: int = 30) -> int:
    """The grace period a container was created with (an annotation: it outlives the agent)."""
    try:
        return int(annotations.get(GRACE_PERIOD, default))
    except ValueError:
        return default
