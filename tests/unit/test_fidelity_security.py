"""fsGroup, supplementalGroups and runAsNonRoot as the kubelet applies them.

fsGroup joins every container's groups ahead of supplementalGroups (``determineEffectiveSecurityContext``)
and owns the emptyDir volumes with the setgid bit (``SetVolumeOwnership``, with fsGroupChangePolicy);
runAsNonRoot is checked against the image's user (``verifyRunAsNonRoot``) with the kubelet's messages.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from pykubelet import volumes
from pykubelet.events import Recorder
from pykubelet.runtime.docker import convert
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import make_pod

GROUP = 2000


async def test_fs_group_then_supplemental_groups_reach_every_container(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    pod = make_pod(
        init=[{"name": "setup", "image": "busybox:1.35", "command": ["true"]}],
        securityContext={"fsGroup": GROUP, "supplementalGroups": [3000, 4000]},
    )
    await manager.sync_pod(pod)
    ((_, config),) = fake.args("create_container")
    assert config.supplemental_groups == (GROUP, 3000, 4000)


def test_an_empty_dir_goes_to_the_fs_group_with_setgid(tmp_path: Path) -> None:
    spec = {"volumes": [{"name": "data", "emptyDir": {}}], "securityContext": {"fsGroup": GROUP}}
    path = Path(volumes.setup(str(tmp_path), "a" * 32, spec).paths["data"])
    info = path.stat()
    assert info.st_gid == GROUP and stat.S_IMODE(info.st_mode) == 0o2777
    volumes.setup(str(tmp_path), "a" * 32, spec)  # a later sync leaves the bits alone
    assert stat.S_IMODE(path.stat().st_mode) == 0o2777


@pytest.mark.parametrize(("policy", "walked"), [("Always", True), ("OnRootMismatch", False)])
def test_fs_group_change_policy(tmp_path: Path, policy: str, walked: bool) -> None:
    root = tmp_path / "vol"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "file").write_text("x")
    os.chmod(root / "sub" / "file", 0o600)
    os.symlink("/etc/passwd", root / "link")
    os.chown(root, -1, GROUP)
    os.chmod(root, 0o2770)  # the root already matches: OnRootMismatch skips the walk
    volumes.set_volume_ownership(root, GROUP, policy)
    inner = (root / "sub" / "file").stat()
    assert (inner.st_gid == GROUP and stat.S_IMODE(inner.st_mode) == 0o660) is walked
    assert os.stat("/etc/passwd").st_gid != GROUP  # a link is never followed


@pytest.mark.parametrize(
    ("image_user", "context", "message"),
    [
        ("", {}, "container has runAsNonRoot and image will run as root"),
        ("0:0", {}, "container has runAsNonRoot and image will run as root"),
        (
            "nginx",
            {},
            "container has runAsNonRoot and image has non-numeric user (nginx), "
            "cannot verify user is non-root",
        ),
        ("", {"runAsUser": 0}, "container's runAsUser breaks non-root policy"),
        ("1000", {}, None),
        ("", {"runAsUser": 1000}, None),
    ],
)
async def test_run_as_non_root_is_checked_against_the_image_user(
    fake: FakeRuntime,
    manager: RuntimeManager,
    recorder: Recorder,
    image_user: str,
    context: dict[str, int],
    message: str | None,
) -> None:
    pod = make_pod(securityContext={"runAsNonRoot": True, **context})
    await fake.pull_image("busybox:1.35")
    fake.images["busybox:1.35"] = dataclasses.replace(fake.images["busybox:1.35"], user=image_user)
    await manager.sync_pod(pod)
    reason = manager.state(pod.uid).reasons.get("app")
    if message is None:
        assert reason is None and fake.find("app").running
        return
    suffix = f' (pod: "{pod.name}_{pod.namespace}({pod.uid})", container: app)'
    assert reason == ("CreateContainerConfigError", message + suffix)
    assert f"Error: {message}{suffix}" in [e["message"] for e in recorder.list()]


def test_docker_reports_the_images_configured_user() -> None:
    assert convert.image({"Id": "sha256:x", "Config": {"User": "101:101"}}).user == "101:101"
    assert convert.image({"Id": "sha256:x", "Config": {"User": ""}}).user == ""
    assert convert.image({"Id": "sha256:x"}).user == ""
