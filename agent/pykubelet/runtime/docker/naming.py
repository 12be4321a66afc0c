"""Docker container names as dockershim wrote them (``pkg/kubelet/dockershim/naming.go``).

``k8s_<container>_<pod>_<namespace>_<uid>_<attempt>``, with ``POD`` as the container name of the
infra (sandbox) container. People learning the kubelet read these names in ``docker ps``, so they are
exact; a 7th random field is accepted when parsing, as dockershim added one on name conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass

KUBE_PREFIX = "k8s"
SANDBOX_CONTAINER_NAME = "POD"


@dataclass(frozen=True)
class ParsedName:
    container: str
    pod_name: str
    namespace: str
    pod_uid: str
    attempt: int

    @property
    def is_sandbox(self) -> bool:
        return self.container == SANDBOX_CONTAINER_NAME


def sandbox_name(pod_name: str, namespace: str, uid: str, attempt: int) -> str:
    return container_name(SANDBOX_CONTAINER_NAME, pod_name, namespace, uid, attempt)


def container_name(container: str, pod_name: str, namespace: str, uid: str, attempt: int) -> str:
    return "_".join([KUBE_PREFIX, container, pod_name, namespace, uid, str(attempt)])


def parse_name(name: str) -> ParsedName | None:
    """Parse a Docker container name (with or without the leading ``/``); None if it is not ours."""
    parts = name.lstrip("/").split("_")
    if len(parts) not in (6, 7) or parts[0] != KUBE_PREFIX:
        return None
    try:
        attempt = int(parts[5])
    except ValueError:
        return None
    return ParsedName(parts[1], parts[2], parts[3], parts[4], attempt)
