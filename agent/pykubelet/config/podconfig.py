"""The kubelet's ``PodConfig`` (``pkg/kubelet/config/config.go``): each source's latest set, merged.

Each source (the manifest directory, the manifest URL) hands over its *whole* set every time, as the
kubelet's ``SET`` updates do; PodConfig keeps the latest per source, merges them and hands the kubelet
the new desired set with the one it replaces, so the kubelet diffs and never has to track sources.

Two things here need every source at once, which is why they are not in the sources:

- **One name, one pod.** Two manifests that claim one ``name_namespace`` cannot both run: the pod already
  running keeps the name (an edit elsewhere must not restart it), else the first file in sorted order;
  the other file gets a ``Duplicate value`` error on ``metadata.name`` (``/manifests`` shows it).
- **Sources seen.** Until every source has delivered a first complete listing (the kubelet's
  ``SeenAllSources``), orphan cleanup must not take "not read yet" for "deleted" and remove running pods.

A file whose edit broke it keeps its last good pod until the source's next relist (the file source puts
both in one result): the merge keeps that pod *and* reports the error, so a half-written save restarts
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from pykubelet.config.file import FileSource, Snapshot
from pykubelet.config.url import URLSource
from pykubelet.events import Recorder
from pykubelet.manifest import FieldError, ManifestError, StaticPod
from pykubelet.options import Options, parse_headers

log = logging.getLogger("pykubelet.config")

DesiredPods = dict[str, StaticPod]  # uid -> pod
OnChange = Callable[[DesiredPods, DesiredPods], None]  # (previous, wanted)


@dataclass(frozen=True)
class Merged:
    """The desired pods by uid, and each file that yields no pod (or not only a pod) with its error."""

    pods: DesiredPods
    errors: dict[str, ManifestError]


def merge(snapshots: Iterable[Snapshot], running: Collection[str]) -> Merged:
    """Merge every source's latest set; ``running`` is the uids already desired (they keep their names)."""
    results = {path: result for snapshot in snapshots for path, result in snapshot.items()}
    errors = {path: r.error for path, r in results.items() if r.error is not None}
    candidates = sorted(
        (r.pod for r in results.values() if r.pod is not None),
        key=lambda p: (p.uid not in running, p.source),
    )
    pods: DesiredPods = {}
    by_name: dict[str, StaticPod] = {}
    for pod in candidates:
        holder = by_name.get(pod.full_name)
        if holder is not None:
            errors[pod.source] = duplicate_name(pod, holder)
            continue
        by_name[pod.full_name] = pod
        pods[pod.uid] = pod
    return Merged(pods, errors)


def duplicate_name(pod: StaticPod, holder: StaticPod) -> ManifestError:
    """The error for ``pod``'s file when ``holder`` (from another file) already has its name."""
    return ManifestError(
        pod.source,
        [
            FieldError(
                "metadata.name",
                "Duplicate value",
                f"pod {pod.name} in namespace {pod.namespace} already comes from {holder.source}; "
                "rename one of them (each static pod needs a unique name)",
                pod.metadata.get("name"),
            )
        ],
    )


class PodConfig:
    """Keeps each source's latest set, merges on every update and tells the kubelet what changed."""

    def __init__(self, recorder: Recorder, on_change: OnChange) -> None:
        self._recorder = recorder
        self._on_change = on_change
        self._snapshots: dict[str, Snapshot] = {}
        self._sources: set[str] = set()
        self.desired: DesiredPods = {}
        self.errors: dict[str, ManifestError] = {}

    def channel(self, source: str) -> Callable[[Snapshot], None]:
        """Register ``source`` (it must be seen before cleanup may run) and return its update function."""
        self._sources.add(source)
        return lambda snapshot: self.update(source, snapshot)

    def seen_all_sources(self) -> bool:
        """Every registered source has delivered a complete listing (sources only hand over whole sets)."""
        return self._sources <= self._snapshots.keys()

    def update(self, source: str, snapshot: Snapshot) -> None:
        """``source``'s full set changed: merge every source's set and hand the result on."""
        self._snapshots[source] = snapshot
        merged = merge(self._snapshots.values(), self.desired)
        for path, error in merged.errors.items():
            previous = self.errors.get(path)
            if previous is None or str(previous) != str(error):
                self._recorder.file_event(path, "FailedValidation", str(error))
        for path in self.errors.keys() - merged.errors.keys():
            log.info("Manifest error cleared", extra={"file": path})
        self.errors = merged.errors
        previous_pods, self.desired = self.desired, merged.pods
        self._on_change(previous_pods, merged.pods)

    def manifest_report(self) -> list[dict[str, Any]]:
        """Each manifest file and what it yields: a pod, or the error that keeps it from running.

        ``warnings`` are the manifest's fields that pykubelet ignores or does not support yet, and its
        unknown fields (see ``manifest/fields.py``).
        """
        report: list[dict[str, Any]] = [
            {
                "file": pod.source,
                "pod": f"{pod.namespace}/{pod.name}",
                "uid": pod.uid,
                "warnings": [{"field": w.path, "message": str(w)} for w in pod.warnings],
            }
            for pod in self.desired.values()
        ]
        for path, error in self.errors.items():
            fields = [{"field": e.path, "message": str(e)} for e in error.errors]
            warnings = [{"field": w.path, "message": str(w)} for w in error.warnings]
            report.append({"file": path, "error": error.reason, "fields": fields, "warnings": warnings})
        return sorted(report, key=lambda r: r["file"])


def make_sources(options: Options, node_name: str, config: PodConfig) -> list[FileSource | URLSource]:
    """The sources the options ask for, each feeding ``config`` (the kubelet's ``makePodSourceConfig``)."""
    sources: list[FileSource | URLSource] = []
    if options.pod_manifest_path:
        sources.append(
            FileSource(
                options.pod_manifest_path,
                node_name,
                options.file_check_frequency,
                config.channel("file"),
                strict=options.strict_manifests,
            )
        )
    if options.manifest_url:
        sources.append(
            URLSource(
                options.manifest_url,
                parse_headers(options.manifest_url_header),
                node_name,
                options.http_check_frequency,
                config.channel("http"),
                strict=options.strict_manifests,
            )
        )
    return sources
