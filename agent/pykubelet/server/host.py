"""What the read-only port reads of the agent: the kubelet's ``HostInterface`` (``pkg/kubelet/server``).

The server depends on this protocol, never on :mod:`pykubelet.kubelet`: the kubelet serves its port,
the port does not reach into the kubelet. That keeps the import graph a tree, lets the handlers be
tested against a small in-memory host, and makes plain what a request may touch: state the agent
already holds (cached statuses, the last stats summary, the events), never the container runtime.

Every method here must answer from memory, quickly: a hung runtime must not hang ``/healthz``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class NodeFacts:
    """What the dashboard says about the agent that does not change while it runs."""

    name: str
    root_dir: str
    manifest_path: str
    infra_image: str
    started_at: float  # seconds since the epoch


@dataclass(frozen=True)
class PodDetail:
    """What the dashboard shows of one pod beyond its v1 status."""

    source: str | None  # the manifest file (or URL) the pod comes from; None once it is no longer desired
    sandbox_error: tuple[str, str] | None  # (reason, message) while its sandbox cannot be made


class Host(Protocol):
    """The agent as the read-only port sees it; :class:`pykubelet.kubelet.Kubelet` implements it."""

    def node_facts(self) -> NodeFacts: ...

    def health_checks(self) -> list[tuple[str, str | None]]:
        """(check, failure reason or None), in the order ``/healthz?verbose`` lists them."""
        ...

    def runtime_state(self) -> tuple[bool, str]:
        """(the runtime answers, why not) from the agent's last check."""
        ...

    def pod_list(self) -> dict[str, Any]:
        """``/pods`` as a v1 PodList: every desired pod with its cached status."""
        ...

    def pod_list_json(self) -> bytes:
        """:meth:`pod_list` encoded, cached until a status or the desired set changes."""
        ...

    def pod_detail(self, uid: str) -> PodDetail: ...

    def events(self) -> list[dict[str, Any]]:
        """The recorded v1 Events, oldest first."""
        ...

    def manifest_report(self) -> list[dict[str, Any]]:
        """Each manifest file and what it yields: a pod with its warnings, or its error."""
        ...

    def machine_info(self) -> dict[str, Any]:
        """``/spec/``: cAdvisor's MachineInfo."""
        ...

    def stats_summary_json(self, only_cpu_and_memory: bool = False) -> bytes:
        """``/stats/summary`` from the last background collection, encoded."""
        ...

    def cadvisor_names(self) -> Mapping[tuple[str, str], tuple[str, str]]:
        """(pod uid, container name) -> (cgroup, the runtime's name): cAdvisor's ``id`` and ``name``."""
        ...

    def metrics_text(self) -> bytes:
        """``/metrics`` in the Prometheus text format."""
        ...

    def probe_metrics_text(self) -> bytes:
        """``/metrics/probes`` in the Prometheus text format."""
        ...
