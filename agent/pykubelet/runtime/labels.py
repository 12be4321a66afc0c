"""The ``io.kubernetes.*`` labels that make Docker the source of truth for a pod.

dockershim copied the kubelet's CRI labels onto Docker containers as they are and wrote the CRI
annotations as labels with the ``annotation.`` prefix (``pkg/kubelet/dockershim/helpers.go``
``makeLabels``). pykubelet writes the same keys, so ``docker inspect`` shows what the real kubelet's
containers showed, and everything needed to adopt a pod after a restart can be read back from them.
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
DOCKER_TYPE = "io.kubernetes.docker.type"
SANDBOX_ID = "io.kubernetes.sandbox.id"
LOG_PATH = "io.kubernetes.container.logpath"

TYPE_SANDBOX = "podsandbox"
TYPE_CONTAINER = "container"

ANNOTATION_PREFIX = "annotation."
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
    """The sandbox carries the pod's own labels and annotations, as dockershim's did."""
    labels = {str(k): str(v) for k, v in (pod.metadata.get("labels") or {}).items()}
    labels.update(_annotations(pod.metadata.get("annotations") or {}))
    labels.update(
        {
            POD_NAME: pod.name,
            POD_NAMESPACE: pod.namespace,
            POD_UID: pod.uid,
            CONTAINER_NAME: "POD",
            DOCKER_TYPE: TYPE_SANDBOX,
            NODE: node,
            SOURCE: pod.source,
            ANNOTATION_PREFIX + GRACE_PERIOD: str(pod.grace_period),
        }
    )
    return labels


def container_labels(
    pod: StaticPod,
    container: dict[str, Any],
    *,
    node: str,
    sandbox_id: str,
    restart_count: int,
    kind: str,
    log_path: str,
) -> dict[str, str]:
    annotations: dict[str, Any] = {
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
    labels = _annotations(annotations)
    labels.update(
        {
            POD_NAME: pod.name,
            POD_NAMESPACE: pod.namespace,
            POD_UID: pod.uid,
            CONTAINER_NAME: container["name"],
            DOCKER_TYPE: TYPE_CONTAINER,
            SANDBOX_ID: sandbox_id,
            LOG_PATH: log_path,
            NODE: node,
            SOURCE: pod.source,
        }
    )
    return labels


def container_hash(container: dict[str, Any]) -> str:
    """A stable hash of a container's spec: a changed spec under the same pod uid means a restart.

    The kubelet hashes the Go struct with fnv32a; any stable hash of the canonical JSON serves the
    same purpose (notice a spec change), so the hex looks alike but is not byte-identical.
    """
    canonical = json.dumps(container, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def annotation(labels: dict[str, str], key: str, default: str = "") -> str:
    return labels.get(ANNOTATION_PREFIX + key, default)


def _annotations(values: dict[str, Any]) -> dict[str, str]:
    return {ANNOTATION_PREFIX + str(k): str(v) for k, v in values.items()}
