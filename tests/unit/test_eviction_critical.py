"""Static pods are critical (``kubetypes.IsCriticalPod``): an emptyDir over its ``sizeLimit`` on one is
reported with the kubelet's line, never evicted; a pod that is not critical is still evicted."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pykubelet.events import Recorder
from pykubelet.eviction import EvictionManager, is_critical
from pykubelet.manifest import StaticPod
from pykubelet.statusmanager import StatusManager

LIMITED = [{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}}]


def pod(source: str | None = "file", priority: int | None = None) -> StaticPod:
    metadata: dict[str, Any] = {"name": "web", "namespace": "default", "uid": "uid-web"}
    if source is not None:
        metadata["annotations"] = {"kubernetes.io/config.source": source}
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox:1.35"}], "volumes": LIMITED}
    if priority is not None:
        spec["priority"] = priority
    return StaticPod("uid-web", "web", "default", "/m/web.yaml", {"metadata": metadata, "spec": spec})


def summary(p: StaticPod, used: int) -> dict[str, Any]:
    return {"pods": [{"podRef": {"uid": p.uid}, "volume": [{"name": "scratch", "usedBytes": used}]}]}


def test_static_and_system_critical_pods_are_critical() -> None:
    assert is_critical(pod("file")) and is_critical(pod("http"))
    assert not is_critical(pod("api")) and not is_critical(pod(None))
    assert is_critical(pod(None, priority=2_000_000_000))
    assert not is_critical(pod(None, priority=1_000))


def test_a_static_pod_over_its_limit_is_reported_once_not_evicted(caplog: pytest.LogCaptureFixture) -> None:
    p = pod("file")
    recorder = Recorder("node1")
    status = StatusManager("10.0.0.1", lambda: {p.uid: p})
    stopped: list[str] = []
    manager = EvictionManager(status, recorder, lambda uid, full_name, pod: stopped.append(uid))
    with caplog.at_level(logging.INFO, logger="pykubelet.eviction"):
        for _ in range(3):  # three stats periods over the limit
            manager.synchronize(summary(p, 2**30), {p.uid: p})
    lines = [r for r in caplog.records if r.getMessage() == "Eviction manager: cannot evict a critical pod"]
    assert len(lines) == 1 and lines[0].levelno == logging.ERROR
    assert lines[0].__dict__["kv"]["message"] == 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi".'
    assert stopped == [] and not status.is_rejected(p.uid)
    assert recorder.list() == []  # evictPod returns before recording the Evicted event
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pykubelet.eviction"):
        manager.synchronize(summary(p, 10), {p.uid: p})  # back under its limit
        manager.synchronize(summary(p, 2**30), {p.uid: p})  # and over again: said again
    assert [r.getMessage() for r in caplog.records] == ["Eviction manager: cannot evict a critical pod"]


def test_a_pod_that_is_not_critical_is_still_evicted() -> None:
    p = pod("api")
    recorder = Recorder("node1")
    status = StatusManager("10.0.0.1", lambda: {p.uid: p})
    stopped: list[str] = []
    EvictionManager(status, recorder, lambda uid, full_name, pod: stopped.append(uid)).synchronize(
        summary(p, 2**30), {p.uid: p}
    )
    assert stopped == [p.uid] and status.is_rejected(p.uid)
    assert [(e["type"], e["reason"]) for e in recorder.list()] == [("Warning", "Evicted")]
