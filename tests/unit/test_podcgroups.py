"""The pod's systemd slice goes with the pod (the kubelet's pod container manager ``Destroy``).

A cgroup tree in a temporary directory stands in for /sys/fs/cgroup and a recorder for ``systemctl``: only
a slice of this pod that systemd made is stopped, and a stop that fails is a warning, never an error.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from pykubelet import podcgroups

UID = "2d5f-aa11"


class Systemctl:
    def __init__(self, returncode: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.returncode = returncode

    def __call__(self, command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(command)
        return subprocess.CompletedProcess(command, self.returncode, "", "Failed to stop: access denied")


@pytest.fixture(autouse=True)
def _systemctl_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podcgroups.shutil, "which", lambda name: f"/usr/bin/{name}")


def test_slices_are_named_as_the_kubelet_names_them_and_nest_under_their_parents() -> None:
    assert podcgroups.pod_slices(UID) == [
        "kubepods-pod2d5f_aa11.slice",
        "kubepods-burstable-pod2d5f_aa11.slice",
        "kubepods-besteffort-pod2d5f_aa11.slice",
    ]
    assert podcgroups.slice_path("kubepods-besteffort-pod2d5f_aa11.slice") == (
        "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod2d5f_aa11.slice"
    )


BESTEFFORT = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod2d5f_aa11.slice"


def test_only_the_pods_slice_is_stopped_and_its_cgroups_removed_in_every_hierarchy(tmp_path: Path) -> None:
    """cgroup v1: systemd's own hierarchy and a controller it does not manage, where runc left the pod's
    directories (and a scope's below them); another pod's slice is not touched."""
    systemd, hugetlb = tmp_path / "systemd", tmp_path / "hugetlb"
    (systemd / BESTEFFORT).mkdir(parents=True)
    (hugetlb / BESTEFFORT / "cri-containerd-abc.scope").mkdir(parents=True)
    other = hugetlb / "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podother.slice"
    other.mkdir()
    systemctl = Systemctl()
    stopped = podcgroups.release(UID, roots=[str(systemd), str(hugetlb)], run=systemctl)
    assert stopped == ["kubepods-besteffort-pod2d5f_aa11.slice"]
    assert systemctl.calls == [["/usr/bin/systemctl", "stop", "--", "kubepods-besteffort-pod2d5f_aa11.slice"]]
    assert not (systemd / BESTEFFORT).exists() and not (hugetlb / BESTEFFORT).exists()
    assert other.is_dir() and (hugetlb / "kubepods.slice/kubepods-besteffort.slice").is_dir()


def test_no_slice_no_call_and_a_failed_stop_is_a_warning_that_leaves_the_cgroups(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    systemctl = Systemctl(returncode=1)
    assert podcgroups.release(UID, roots=[str(tmp_path)], run=systemctl) == []
    assert systemctl.calls == []  # cgroupfs, Docker, or a pod that never ran: nothing to stop

    (tmp_path / "kubepods.slice/kubepods-pod2d5f_aa11.slice").mkdir(parents=True)
    assert podcgroups.release(UID, roots=[str(tmp_path)], run=systemctl) == []
    assert "access denied" in caplog.text
    assert (tmp_path / "kubepods.slice/kubepods-pod2d5f_aa11.slice").is_dir()


def test_the_hierarchies_are_the_root_and_each_controller_in_it(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "cgroup.procs").write_text("")
    assert podcgroups.hierarchies(str(tmp_path)) == [str(tmp_path), str(tmp_path / "memory")]
    assert podcgroups.hierarchies(str(tmp_path / "absent")) == []
