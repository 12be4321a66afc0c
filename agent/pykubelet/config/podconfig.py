"""The kubelet's ``PodConfig`` (``pkg/kubelet/config/config.go``): each source's latest set, merged.

Each source (the manifest directory, the manifest URL) hands over its *whole* set every time, as the
kubelet's ``SET`` updates do; PodConfig keeps the latest per source, merges them and hands the kubelet
the new desired set with the one it replaces, so the kubelet diffs and never has to track sources.

Two things here need every source at once, which is why they are not in the sources:

- **One name, one pod** (``filterInvalidPods``). Within a source, in the source's own order (the file
  source's sorted file names, the URL's PodList order), the first pod of a ``name_namespace`` is kept and
  every later one is refused: a log line and a ``FailedValidation`` event on the refused pod in the
  kubelet's words (``Error validating pod ... due to duplicate pod name "web", ignoring``), and a
  ``Duplicate value`` error on ``metadata.name`` in ``/manifests``. As in the kubelet the order decides,
  not which pod runs: a new ``a.yaml`` claiming the name of ``b.yaml``'s running pod replaces it. Across
  sources the kubelet checks nothing; pykubelet keeps the file source's pod and refuses the URL's the
  same way, because two pods with one name would make the node's names ambiguous (docs/fidelity.md).
- **Sources seen.** Until every source has delivered a first complete listing (the kubelet's
  ``SeenAllSources``), orphan cleanup must not take "not read yet" for "deleted" and remove running pods.

A file whose edit broke it keeps its last good pod until the source's next relist (the file source puts
both in one result): the merge keeps that pod *and* reports the error, so a half-written save restarts
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pykubelet.config.file import FileSource, Snapshot
from pykubelet.config.url import URLSource
from pykubelet.events import WARNING, Recorder
from pykubelet.manifest import FieldError, ManifestError, StaticPod
from pykubelet.options import Options
from pykubelet.urlheaders import parse_headers

log = logging.getLogger("pykubelet.config")

SOURCE_ANNOTATION = "kubernetes.io/config.source"

DesiredPods = dict[str, StaticPod]  # uid -> pod
OnChange = Callable[[DesiredPods, DesiredPods], None]  # (previous, wanted)


@dataclass(frozen=True)
class Merged:
    """The desired pods by uid, each file that yields no pod (or not only a pod) with its error, and the
    pods refused as duplicates (by the key of their file, or URL entry) for their event."""

    pods: DesiredPods
    errors: dict[str, ManifestError]
    duplicates: dict[str, StaticPod] = field(default_factory=dict)


def source_order(key: str) -> tuple[str, int]:
    """A source's own order: file paths sorted (``filepath.Glob`` sorts), a URL's ``url#index`` entries by
    index (``#10`` after ``#9``, not after ``#1``)."""
    base, sep, index = key.rpartition("#")
    return (base, int(index)) if sep and index.isdigit() else (key, -1)


def merge(snapshots: Iterable[Snapshot]) -> Merged:
    """Merge every source's latest set, sources in registration order (the file source first)."""
    pods: DesiredPods = {}
    errors: dict[str, ManifestError] = {}
    duplicates: dict[str, StaticPod] = {}
    by_name: dict[str, tuple[str, StaticPod]] = {}
    for snapshot in snapshots:
        for key in sorted(snapshot, key=source_order):
            result = snapshot[key]
            if result.error is not None:
                errors[key] = result.error
            pod = result.pod
            if pod is None:
                continue
            holder = by_name.get(pod.full_name)
            if holder is not None:
                errors[key] = duplicate_name(key, pod, holder[0])
                duplicates[key] = pod
                continue
            by_name[pod.full_name] = (key, pod)
            pods[pod.uid] = pod
    return Merged(pods, errors, duplicates)


def duplicate_name(key: str, pod: StaticPod, holder: str) -> ManifestError:
    """The error for ``pod`` (from ``key``) when an earlier file or entry, ``holder``, has its name."""
    return ManifestError(
        key,
        [
            FieldError(
                "metadata.name",
                "Duplicate value",
                f"pod {pod.name} in namespace {pod.namespace} already comes from {holder}, which sorts "
                "first; rename one of them (each static pod needs a unique name)",
                pod.metadata.get("name"),
            )
        ],
    )


def duplicate_message(pod: StaticPod) -> str:
    """The kubelet's FailedValidation event text (``filterInvalidPods``; ``format.Pod`` is name_ns(uid))."""
    source = pod.metadata.get("annotations", {}).get(SOURCE_ANNOTATION, "file")
    return (
        f"Error validating pod {pod.full_name}({pod.uid}) from {source} "
        f'due to duplicate pod name "{pod.name}", ignoring'
    )


class PodConfig:
    """Keeps each source's latest set, merges on every update and tells the kubelet what changed."""

    def __init__(
        self, recorder: Recorder, on_change: OnChange, on_error: Callable[[str], None] = lambda path: None
    ) -> None:
        self._recorder = recorder
        self._on_change = on_change
        # Told the file (or URL entry) of each new FailedValidation, once per change as the event is:
        # the kubelet counts what it refuses, and /metrics is where a monitor looks, not the event log.
        self._on_error = on_error
        self._snapshots: dict[str, Snapshot] = {}
        self._sources: dict[str, None] = {}  # registration order: the file source first
        self.desired: DesiredPods = {}
        self.errors: dict[str, ManifestError] = {}

    def channel(self, source: str) -> Callable[[Snapshot], None]:
        """Register ``source`` (it must be seen before cleanup may run) and return its update function."""
        self._sources[source] = None
        return lambda snapshot: self.update(source, snapshot)

    def seen_all_sources(self) -> bool:
        """Every registered source has delivered a complete listing (sources only hand over whole sets)."""
        return self._sources.keys() <= self._snapshots.keys()

    def update(self, source: str, snapshot: Snapshot) -> None:
        """``source``'s full set changed: merge every source's set and hand the result on."""
        self._snapshots[source] = snapshot
        merged = merge(self._snapshots[s] for s in self._sources if s in self._snapshots)
        for path, error in merged.errors.items():
            previous = self.errors.get(path)
            if previous is not None and str(previous) == str(error):
                continue  # one event per change, not one per relist
            self._on_error(path)
            refused = merged.duplicates.get(path)
            if refused is None:
                self._recorder.file_event(path, "FailedValidation", str(error))
                continue
            log.info(  # the kubelet's line; ``err`` adds which file holds the name
                "Pod failed validation due to duplicate pod name, ignoring",
                extra={"pod": f"{refused.namespace}/{refused.name}", "file": path, "err": str(error)},
            )
            self._recorder.pod_event(refused, "FailedValidation", duplicate_message(refused), type=WARNING)
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
                parse_headers(options.manifest_url_header),  # a MultiDict: every value of a repeated name
                node_name,
                options.http_check_frequency,
                config.channel("http"),
                strict=options.strict_manifests,
            )
        )
    return sources
