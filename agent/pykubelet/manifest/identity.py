"""A static pod's identity: its UID, ``name-node`` name and config annotations (``applyDefaults`` in
``pkg/kubelet/config/common.go``).

A static pod has no API server to give it a UID, so the kubelet derives one from the content: editing a
manifest yields a new UID, which is why an edit replaces the pod (new containers, fresh emptyDirs)
instead of updating it in place, while rewriting identical bytes changes nothing. Since 1.21 the node
name and file path are hashed *after* the pod (PR #87461) so the same manifest in two files, or on two
nodes, gives two different pods.

Upstream hashes the defaulted Go struct and, in current releases, with FNV-128a; here the hash is MD5
over canonical JSON of the defaulted pod. The properties that matter are the same: 32 hex characters,
stable for identical content, different for any change.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from typing import Any, Final

__all__ = [
    "CONFIG_HASH_ANNOTATION",
    "CONFIG_SOURCE_ANNOTATION",
    "STATIC_POD_TOLERATION",
    "generate_pod_name",
    "make_static",
    "node_name_default",
    "pod_uid",
]

CONFIG_HASH_ANNOTATION: Final = "kubernetes.io/config.hash"
CONFIG_SOURCE_ANNOTATION: Final = "kubernetes.io/config.source"
# "so they are not evicted when there are node problems"
STATIC_POD_TOLERATION: Final = {"operator": "Exists", "effect": "NoExecute"}


def make_static(
    pod: dict[str, Any], *, node_name: str, source: str, config_source: str = "file"
) -> dict[str, Any]:
    """A deep copy of the defaulted, validated ``pod`` carrying its static-pod identity.

    ``kubernetes.io/config.seen`` is deliberately not set: the config layer stamps it when it first sees
    the pod, and it must never feed the UID.
    """
    uid = (pod.get("metadata") or {}).get("uid") or pod_uid(
        pod, node_name=node_name, source=source, config_source=config_source
    )
    pod = copy.deepcopy(pod)
    _name_and_annotate(pod.setdefault("metadata", {}), uid, node_name, config_source)
    _bind_to_node(pod.setdefault("spec", {}), node_name, config_source)
    return pod


def _name_and_annotate(metadata: dict[str, Any], uid: str, node_name: str, config_source: str) -> None:
    metadata["uid"] = uid
    metadata["name"] = generate_pod_name(metadata.get("name", ""), node_name)
    metadata["namespace"] = metadata.get("namespace") or "default"
    metadata["creationTimestamp"] = None
    annotations = metadata.get("annotations") or {}
    annotations[CONFIG_HASH_ANNOTATION] = uid
    annotations[CONFIG_SOURCE_ANNOTATION] = config_source
    metadata["annotations"] = annotations


def _bind_to_node(spec: dict[str, Any], node_name: str, config_source: str) -> None:
    """Scheduled here, and (file pods only, as upstream) never evicted for node problems."""
    spec["nodeName"] = node_name
    if config_source != "file":
        return
    tolerations = spec.get("tolerations") or []
    if STATIC_POD_TOLERATION not in tolerations:
        tolerations.append(dict(STATIC_POD_TOLERATION))
    spec["tolerations"] = tolerations


def pod_uid(pod: dict[str, Any], *, node_name: str, source: str, config_source: str = "file") -> str:
    """32 hex characters: the hash of the pod's content, then of where it came from.

    A file pod hashes ``host:<node>`` and ``file:<path>``; a URL pod hashes ``url:<url>`` only, as upstream.
    """
    hasher = hashlib.md5(usedforsecurity=False)
    hasher.update(json.dumps(pod, sort_keys=True, separators=(",", ":")).encode())
    if config_source == "file":
        hasher.update(f"host:{node_name}".encode())
        hasher.update(f"file:{source}".encode())
    else:
        hasher.update(f"url:{source}".encode())
    return hasher.hexdigest()


def generate_pod_name(name: str, node_name: str) -> str:
    """``generatePodName``: ``static-web`` on node ``My-Node1`` is ``static-web-my-node1``."""
    return f"{name}-{node_name.lower()}"


def node_name_default() -> str:
    """The kubelet's default node name: the host name, lower-cased (``nodeutil.GetHostname``)."""
    return socket.gethostname().strip().lower()
