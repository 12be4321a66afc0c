"""The kubelet's CVE-2017-1002101: a container plants a symlink in a volume, a later container mounts it.

An init container runs ``ln -s <canary>/dir /vol/escape``; the app container mounts the same volume with
``subPath: escape`` and, if it ever runs with that mount, writes into it. A subPath resolved by following
the link would hand the container the canary directory on the host. The kubelet's fix (1.9.4: resolve
the subPath beneath the volume without following symlinks out of it) makes the container fail to start
with an error naming the subPath; the pod must never write into the canary tree, and tearing the pod
down must not follow the link either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.hostile.cases import IMAGE, SLEEP, good_pod
from tests.hostile.conftest import CaseRun, Hostile, canary_pod, wait_gone
from tests.integration.conftest import wait_for

# what the app container does if it gets the mount: every kind of damage the tree snapshot notices
VANDAL = "touch /mnt/pwned; echo changed > /mnt/notes.txt; chmod 777 /mnt; " + SLEEP[2]


def planted_pod(link_target: str, sub_path: str) -> dict[str, Any]:
    pod = good_pod("planted")
    spec = pod["spec"]
    spec["volumes"] = [{"name": "vol", "emptyDir": {}}]
    spec["initContainers"] = [
        {
            "name": "plant",
            "image": IMAGE,
            "command": ["ln", "-s", link_target, f"/vol/{sub_path.split('/')[0]}"],
            "volumeMounts": [{"name": "vol", "mountPath": "/vol"}],
        }
    ]
    spec["containers"][0]["command"] = ["sh", "-c", VANDAL]
    spec["containers"][0]["volumeMounts"] = [{"name": "vol", "mountPath": "/mnt", "subPath": sub_path}]
    return pod


# name -> (link target, given the canary path; the subPath the app container mounts)
PLANTS: dict[str, tuple[Callable[[str], str], str]] = {
    "subpath-symlink-absolute": (lambda canary: f"{canary}/dir", "escape"),
    "subpath-symlink-relative": (lambda canary: "../" * 40 + canary.lstrip("/") + "/dir", "escape"),
    "subpath-symlink-parent": (lambda canary: canary, "escape/dir"),
}


def refused_subpath(h: Hostile, run: CaseRun) -> str:
    """(a): the app container waits with a reason naming the subPath (status or log), and never ran."""

    def find() -> str | None:
        pod = h.agent.pod("planted")
        for status in (pod or {}).get("status", {}).get("containerStatuses", []):
            waiting = status.get("state", {}).get("waiting") or {}
            if re.search(r"subPath", waiting.get("message", "")):
                return f"status: {waiting}"
        with open(h.agent.log_file, "rb") as fh:
            fh.seek(run.log_from)
            for line in fh.read().decode(errors="replace").splitlines():
                if "planted" in line and re.search(r"subPath", line):
                    return f"log: {line}"
        return None

    return wait_for("an error naming the planted pod's subPath", find, timeout=60)


@pytest.mark.parametrize("plant", list(PLANTS))
@pytest.mark.parametrize("source", ["file", "url"])
def test_planted_symlink_subpath(
    request: pytest.FixtureRequest, begin_case: Callable[[Hostile], CaseRun], source: str, plant: str
) -> None:
    h: Hostile = request.getfixturevalue(f"{source}_agent")
    run = begin_case(h)
    target, sub_path = PLANTS[plant]
    pod = planted_pod(target(str(h.top / "canary")), sub_path)
    if h.server is not None:
        h.server.serve_pods([canary_pod(), pod])
    else:
        h.agent.write("planted.yaml", pod)
    refused_subpath(h, run)
    h.assert_unharmed(run.before)
    if h.server is None:
        h.agent.remove("planted.yaml")
    h.fresh_pod_starts()  # for the URL agent, the fresh body drops the planted pod
    wait_gone(h, "planted")  # its emptyDir, link and all, is deleted: without following the link
    h.assert_unharmed(run.before)
