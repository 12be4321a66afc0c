"""PodConfig's merge of the sources (``config/podconfig.py``), without Docker or files.

The rules a person relies on when two manifests collide or a file breaks: one name, one pod (the
first file in sorted order keeps it, as the kubelet's filterInvalidPods); a broken edit keeps the last
good pod until the relist; orphan cleanup waits until every source has been seen; each new error is
one event, not one per scan.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pykubelet.config.file import FileResult, Snapshot
from pykubelet.config.podconfig import DesiredPods, PodConfig, merge
from pykubelet.events import Recorder
from pykubelet.manifest import FieldError, ManifestError, StaticPod


def pod(name: str, source: str, uid: str | None = None, namespace: str = "default") -> StaticPod:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": uid or f"uid-{source}"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]},
    }
    return StaticPod(uid or f"uid-{source}", name, namespace, source, obj)


def snapshot(*results: FileResult) -> Snapshot:
    return {r.path: r for r in results}


def ok(p: StaticPod) -> FileResult:
    return FileResult(p.source, p)


def broken(path: str, last_good: StaticPod | None = None) -> FileResult:
    return FileResult(path, last_good, ManifestError(path, [FieldError("spec.containers", "Required value")]))


class Changes:
    """Records what PodConfig hands the kubelet."""

    def __init__(self) -> None:
        self.calls: list[tuple[DesiredPods, DesiredPods]] = []

    def __call__(self, previous: DesiredPods, wanted: DesiredPods) -> None:
        self.calls.append((dict(previous), dict(wanted)))


def test_two_files_one_name_the_first_file_wins_and_the_other_is_told_why() -> None:
    first, second = pod("web", "/m/a.yaml"), pod("web", "/m/b.yaml")
    merged = merge([snapshot(ok(second), ok(first))])
    assert set(merged.pods) == {first.uid}
    error = merged.errors["/m/b.yaml"]
    assert error.errors[0].path == "metadata.name"
    assert "Duplicate value" in str(error)
    assert "already comes from /m/a.yaml" in str(error)
    assert "rename one of them" in str(error)
    assert merged.duplicates == {"/m/b.yaml": second}


def test_the_first_file_wins_even_over_the_running_pod() -> None:
    """The kubelet filters every SET in sorted file order: which pod runs does not matter."""
    running, newcomer = pod("web", "/m/z.yaml"), pod("web", "/m/a.yaml")
    changes = Changes()
    config = PodConfig(Recorder("node1"), changes)
    update = config.channel("file")
    update(snapshot(ok(running)))
    update(snapshot(ok(running), ok(newcomer)))
    assert set(config.desired) == {newcomer.uid}
    assert "already comes from /m/a.yaml" in str(config.errors["/m/z.yaml"])


def test_a_duplicate_gets_the_kubelets_event_and_log_line(caplog: pytest.LogCaptureFixture) -> None:
    first, second = pod("web", "/m/a.yaml"), pod("web", "/m/b.yaml")
    second.metadata["annotations"] = {"kubernetes.io/config.source": "file"}
    recorder = Recorder("node1")
    config = PodConfig(recorder, Changes())
    update = config.channel("file")
    with caplog.at_level(logging.INFO, logger="pykubelet.config"):
        for _ in range(2):  # a relist with the same duplicate: no second event
            update(snapshot(ok(first), ok(second)))
    events = [e for e in recorder.list() if e["reason"] == "FailedValidation"]
    assert len(events) == 1 and events[0]["type"] == "Warning"
    assert events[0]["involvedObject"]["kind"] == "Pod"
    assert events[0]["involvedObject"]["uid"] == second.uid
    assert events[0]["message"] == (
        f'Error validating pod web_default({second.uid}) from file due to duplicate pod name "web", ignoring'
    )
    assert "Pod failed validation due to duplicate pod name, ignoring" in caplog.messages
    report = {r["file"]: r for r in config.manifest_report()}
    assert report["/m/b.yaml"]["fields"][0]["field"] == "metadata.name"
    assert "Duplicate value" in report["/m/b.yaml"]["error"]
    assert report["/m/a.yaml"]["pod"] == "default/web"


def test_url_entries_keep_their_list_order() -> None:
    pods = [pod("web", f"http://127.0.0.1/pods#{i}", uid=f"u{i}") for i in (2, 10)]
    merged = merge([snapshot(*(ok(p) for p in pods))])
    assert set(merged.pods) == {"u2"}  # #2 comes before #10 in the PodList
    assert set(merged.errors) == {"http://127.0.0.1/pods#10"}


def test_one_name_in_two_namespaces_is_two_pods() -> None:
    a, b = pod("web", "/m/a.yaml"), pod("web", "/m/b.yaml", namespace="kube-system")
    assert set(merge([snapshot(ok(a), ok(b))]).pods) == {a.uid, b.uid}


def test_names_are_unique_across_sources_too() -> None:
    from_file, from_url = pod("web", "/m/a.yaml"), pod("web", "http://127.0.0.1/pods")
    merged = merge([snapshot(ok(from_url)), snapshot(ok(from_file))][::-1])
    assert set(merged.pods) == {from_file.uid}  # the file source is registered (and merged) first
    assert set(merged.errors) == {"http://127.0.0.1/pods"}


def test_a_broken_edit_keeps_the_last_good_pod_and_reports_the_error() -> None:
    good = pod("web", "/m/web.yaml")
    changes = Changes()
    config = PodConfig(Recorder("node1"), changes)
    update = config.channel("file")
    update(snapshot(ok(good)))
    update(snapshot(broken("/m/web.yaml", last_good=good)))  # the file source's result until the relist
    assert config.desired == {good.uid: good}
    assert "/m/web.yaml" in config.errors
    assert changes.calls[-1] == ({good.uid: good}, {good.uid: good})  # nothing for the workers to do
    update(snapshot(broken("/m/web.yaml")))  # the relist: no pod any more
    assert config.desired == {}
    assert changes.calls[-1] == ({good.uid: good}, {})


def test_cleanup_waits_until_every_source_has_been_seen() -> None:
    config = PodConfig(Recorder("node1"), Changes())
    file_update, url_update = config.channel("file"), config.channel("http")
    assert not config.seen_all_sources()
    file_update({})  # an empty directory is a complete listing
    assert not config.seen_all_sources()
    url_update(snapshot(ok(pod("web", "http://127.0.0.1/pods"))))
    assert config.seen_all_sources()


def test_no_sources_means_nothing_to_wait_for() -> None:
    assert PodConfig(Recorder("node1"), Changes()).seen_all_sources()


def test_each_new_error_is_one_event_not_one_per_scan() -> None:
    recorder = Recorder("node1")
    config = PodConfig(recorder, Changes())
    update = config.channel("file")
    for _ in range(3):
        update(snapshot(broken("/m/bad.yaml")))
    events = [e for e in recorder.list() if e["reason"] == "FailedValidation"]
    assert len(events) == 1
    assert events[0]["count"] == 1
    assert events[0]["involvedObject"] == {"kind": "File", "name": "/m/bad.yaml", "apiVersion": "v1"}
    update({})  # fixed (or deleted): the error clears
    assert config.errors == {}


def test_the_manifest_report_lists_pods_and_errors_by_file() -> None:
    config = PodConfig(Recorder("node1"), Changes())
    good = pod("web", "/m/b.yaml")
    config.channel("file")(snapshot(ok(good), broken("/m/a.yaml")))
    report = config.manifest_report()
    assert [r["file"] for r in report] == ["/m/a.yaml", "/m/b.yaml"]
    assert report[0]["error"] == "spec.containers: Required value"
    assert report[0]["fields"] == [{"field": "spec.containers", "message": "spec.containers: Required value"}]
    assert report[1] == {"file": "/m/b.yaml", "pod": "default/web", "uid": good.uid, "warnings": []}
