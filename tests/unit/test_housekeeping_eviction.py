"""The pure decisions behind orphan cleanup, emptyDir eviction and admission of new pods, without Docker.

Each decides from plain data (uids, a stats summary, pod specs), so a mistake that would remove a
running pod or evict the wrong one shows here in milliseconds, not in a 14-minute CI run.
"""

from __future__ import annotations

from typing import Any

from pykubelet.admission import Rejection, admit_new_pods
from pykubelet.events import Recorder
from pykubelet.eviction import EvictionManager, empty_dir_evictions, empty_dir_limits
from pykubelet.housekeeping import is_stale_pod_dir, orphaned_pods
from pykubelet.manifest import StaticPod
from pykubelet.statusmanager import StatusManager

CAPACITY = (2000, 4 * 2**30)  # 2 CPUs, 4 GiB
LABELS = {"kubernetes.io/hostname": "node1"}


def pod(name: str, *, volumes: list[dict[str, Any]] | None = None, **container: Any) -> StaticPod:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox:1.35", **container}]}
    if volumes is not None:
        spec["volumes"] = volumes
    obj = {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, "spec": spec}
    return StaticPod(f"uid-{name}", name, "default", f"/m/{name}.yaml", obj)


def usage(p: StaticPod, **used: int) -> dict[str, Any]:
    """One pod's entry in a stats summary, with each named volume's usedBytes."""
    return {"podRef": {"uid": p.uid}, "volume": [{"name": n, "usedBytes": b} for n, b in used.items()]}


# -- housekeeping -------------------------------------------------------------------------------------


def test_a_running_pod_without_a_manifest_is_an_orphan() -> None:
    running = {"a": "web_default", "b": "db_default", "c": "old_default"}
    assert orphaned_pods(running, desired={"a"}, workers={"b"}) == {"c": "old_default"}


def test_nothing_is_an_orphan_when_everything_is_wanted() -> None:
    assert orphaned_pods({"a": "web_default"}, desired={"a"}, workers=set()) == {}


def test_a_pod_dir_is_stale_only_when_nothing_claims_it() -> None:
    assert is_stale_pod_dir("x", desired=set(), running=set(), workers=set())
    assert not is_stale_pod_dir("x", desired={"x"}, running=set(), workers=set())
    assert not is_stale_pod_dir("x", desired=set(), running={"x"}, workers=set())
    assert not is_stale_pod_dir("x", desired=set(), running=set(), workers={"x"})  # still stopping


# -- eviction -----------------------------------------------------------------------------------------

LIMITED = [{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}}]


def test_only_disk_backed_empty_dirs_with_a_limit_are_checked() -> None:
    p = pod(
        "web",
        volumes=[
            {"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}},
            {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
            {"name": "free", "emptyDir": {}},
            {"name": "host", "hostPath": {"path": "/tmp"}},
        ],
    )
    assert empty_dir_limits(p) == {"scratch": "1Mi"}


def test_an_empty_dir_over_its_limit_evicts_its_pod_with_the_kubelets_message() -> None:
    p = pod("web", volumes=LIMITED)
    summary = {"pods": [usage(p, scratch=2 * 2**20)]}
    assert empty_dir_evictions(summary, {p.uid: p}, rejected=set()) == [
        (p, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ')
    ]


def test_at_the_limit_or_under_it_nothing_is_evicted() -> None:
    p = pod("web", volumes=LIMITED)
    assert empty_dir_evictions({"pods": [usage(p, scratch=2**20)]}, {p.uid: p}, rejected=set()) == []


def test_a_pod_already_refused_or_no_longer_desired_is_not_evicted_again() -> None:
    p = pod("web", volumes=LIMITED)
    summary = {"pods": [usage(p, scratch=2**30)]}
    assert empty_dir_evictions(summary, {p.uid: p}, rejected={p.uid}) == []
    assert empty_dir_evictions(summary, {}, rejected=set()) == []


def test_eviction_marks_the_pod_failed_records_a_warning_and_stops_it() -> None:
    p = pod("web", volumes=LIMITED)
    recorder = Recorder("node1")
    status = StatusManager("10.0.0.1", lambda: {p.uid: p})
    stopped: list[tuple[str, str]] = []
    evictions = EvictionManager(
        status, recorder, lambda uid, full_name, pod: stopped.append((uid, full_name))
    )
    evictions.synchronize({"pods": [usage(p, scratch=2**30)]}, {p.uid: p})
    assert stopped == [(p.uid, "web_default")]
    item = status.pod_list()["items"][0]
    assert item["status"]["phase"] == "Failed"
    assert item["status"]["reason"] == "Evicted"
    assert [(e["type"], e["reason"]) for e in recorder.list()] == [("Warning", "Evicted")]


# -- admission of new pods ----------------------------------------------------------------------------


def port(host_port: int) -> dict[str, Any]:
    return {"ports": [{"containerPort": 80, "hostPort": host_port}]}


def test_a_running_pod_keeps_its_host_port_against_a_new_file() -> None:
    old, new = pod("z-old", **port(8080)), pod("a-new", **port(8080))
    rejections = admit_new_pods({old.uid: old}, {old.uid: old, new.uid: new}, set(), LABELS, CAPACITY)
    assert set(rejections) == {new.uid}
    assert rejections[new.uid].reason == "NodePorts"
    assert rejections[new.uid].message.startswith("Pod was rejected: Predicate NodePorts failed")


def test_of_two_new_pods_on_one_port_the_first_file_wins() -> None:
    a, b = pod("a", **port(8080)), pod("b", **port(8080))
    assert set(admit_new_pods({}, {b.uid: b, a.uid: a}, set(), LABELS, CAPACITY)) == {b.uid}


def test_a_refused_pod_holds_nothing_and_is_not_judged_again() -> None:
    refused, new = pod("a", **port(8080)), pod("b", **port(8080))
    wanted = {refused.uid: refused, new.uid: new}
    assert admit_new_pods({refused.uid: refused}, wanted, {refused.uid}, LABELS, CAPACITY) == {}


def test_requests_beyond_what_is_left_are_refused() -> None:
    big = pod("big", resources={"requests": {"cpu": "3"}})
    rejection = admit_new_pods({}, {big.uid: big}, set(), LABELS, CAPACITY)[big.uid]
    assert rejection == Rejection(
        "OutOfcpu",
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000",
    )
