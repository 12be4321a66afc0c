"""The only code that talks to a container runtime.

``api`` is the interface and its records; ``actions`` decides what a pod needs (pure), ``manager`` and
``containers`` carry it out, ``configs`` builds what the runtime is given, ``images`` pulls, ``labels``
keeps a pod's identity in the runtime. Two implementations: ``docker/`` (dockershim's way, the kubelet
before 1.24) and ``cri/`` (CRI v1 over gRPC to containerd, the kubelet since).
"""

from __future__ import annotations

import re

from pykubelet.runtime.api import Runtime

# Sockets that speak CRI whatever else their name says (cri-dockerd is Docker behind a CRI shim).
_CRI_NAMES = ("containerd", "crio", "cri-o", "cri-dockerd")


def is_cri_endpoint(endpoint: str) -> bool:
    """Does ``--container-runtime-endpoint`` name a CRI runtime rather than a Docker engine?

    The kubelet since 1.24 treats every endpoint as CRI; pykubelet keeps the Docker era too, so it tells
    them apart by the socket: a unix socket named for containerd or CRI-O (``/run/containerd/
    containerd.sock``, ``/run/crio/crio.sock``) is CRI; anything else (``unix:///var/run/docker.sock``,
    ``tcp://``, ``ssh://``, another socket name) stays the Docker engine it always was.
    """
    match = re.match(r"^(?:unix://?)?(/\S+)$", endpoint)
    if match is None:
        return False
    name = match.group(1).rsplit("/", 1)[-1]
    return any(key in name for key in _CRI_NAMES)


def new_runtime(endpoint: str, node: str) -> Runtime:
    """The runtime behind ``endpoint`` (``--container-runtime-endpoint``), scoped to ``node``'s containers."""
    # Only the chosen runtime's client is imported: a Docker node needs no gRPC stubs, and the reverse.
    if is_cri_endpoint(endpoint):
        from pykubelet.runtime.cri import CriRuntime

        return CriRuntime(endpoint, node)
    from pykubelet.runtime.docker import DockerRuntime

    return DockerRuntime(endpoint, node)
