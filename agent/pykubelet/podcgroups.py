"""The pod's slice goes with the pod: the ``Destroy`` of the kubelet's pod container manager
(``pkg/kubelet/cm/pod_container_manager_linux.go``), for the systemd cgroup driver.

With ``--cgroup-driver=systemd`` each CRI sandbox is put in the pod's slice
(``kubepods-<qos>-pod<uid>.slice``, named by ``runtime.configs.pod_cgroup_parent``). systemd makes the slice
when runc starts the pod's first scope in it, but nothing stops it when the pod's scopes end: the kubelet
stops it when it cleans the pod up. Without that, every pod a node ever ran would leave an active, empty
slice behind. On cgroup v1 the slice's directories in the controllers systemd does not manage (hugetlb,
net_cls, perf_event, ...) were made by runc, and stay after the stop: they are removed too, as libcontainer's
``Destroy`` removes every controller's path. Only this pod's slice (named by its uid) is touched, and only
with ``rmdir``, which the kernel refuses for a cgroup that still holds a process or a child.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable

from pykubelet.qos import BEST_EFFORT, BURSTABLE, GUARANTEED
from pykubelet.runtime.configs import pod_slice

log = logging.getLogger("pykubelet.cm")

CGROUP_ROOT = "/sys/fs/cgroup"  # cgroup v2, or where v1 mounts one hierarchy per controller
STOP_TIMEOUT = 30.0

Run = Callable[..., "subprocess.CompletedProcess[str]"]


def pod_slices(uid: str) -> list[str]:
    """The names the pod's slice can have, one per QoS class (its spec may be gone: an orphan)."""
    return [pod_slice(uid, qos) for qos in (GUARANTEED, BURSTABLE, BEST_EFFORT)]


def slice_path(name: str) -> str:
    """Where systemd puts a slice's cgroup: under each of its parents (``a-b-c.slice`` is in
    ``a.slice/a-b.slice/``)."""
    parts = name.removesuffix(".slice").split("-")
    return "/".join("-".join(parts[: i + 1]) + ".slice" for i in range(len(parts)))


def hierarchies(root: str = CGROUP_ROOT) -> list[str]:
    """Where a pod's cgroup can be: the root (cgroup v2) and each directory in it (v1: a controller each)."""
    try:
        with os.scandir(root) as entries:
            return [root, *(e.path for e in entries if e.is_dir(follow_symlinks=False))]
    except OSError:
        return []


def release(uid: str, roots: list[str] | None = None, run: Run = subprocess.run) -> list[str]:
    """Stop the pod's slice if systemd made one and remove what is left of its cgroups; the slices found.
    Blocking (``systemctl stop``, a walk of the pod's cgroup directories)."""
    roots = hierarchies() if roots is None else roots
    paths = {name: [os.path.join(root, slice_path(name)) for root in roots] for name in pod_slices(uid)}
    found = [name for name, where in paths.items() if any(os.path.isdir(path) for path in where)]
    if not found:
        return []
    if not _stop(found, run):
        return []  # what systemd still runs is left to it
    for name in found:
        for path in paths[name]:
            _remove_tree(path)
    return found


def _stop(names: list[str], run: Run) -> bool:
    """``systemctl stop`` the slices; whether they are stopped (True without systemd: nothing runs them)."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return True
    try:
        result = run([systemctl, "stop", "--", *names], capture_output=True, text=True, timeout=STOP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("Could not stop the pod's slice %s: %s", " ".join(names), exc)
        return False
    if result.returncode != 0:
        log.warning("Could not stop the pod's slice %s: %s", " ".join(names), result.stderr.strip())
        return False
    return True


def _remove_tree(path: str) -> None:
    """``rmdir`` the cgroup at ``path`` and its children, deepest first; a cgroup still in use stays."""
    if not os.path.isdir(path) or os.path.islink(path):
        return
    for directory, _subdirs, _files in os.walk(path, topdown=False):
        try:
            os.rmdir(directory)
        except OSError as exc:
            log.debug("Pod cgroup %s not removed: %s", directory, exc)
