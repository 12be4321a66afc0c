"""Manifest data never becomes a path outside pykubelet's directories (issue 16, point 1).

Unit level, no engine: the uid rule in validation, ``safepath.beneath``, the safe subPath walk (with a real
bind mount: these run as root, as the agent does), and a pod directory's teardown, which must never delete
through a symlink or a mount.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from pykubelet import mounts, safepath, subpath, volumes
from pykubelet.manifest.defaults import apply_defaults
from pykubelet.manifest.validate import validate_pod

UUID = "3f2b8a4e-6c1d-4e9a-b7f0-1a2b3c4d5e6f"
HASH = "0123456789abcdef0123456789abcdef"


def errors_of(metadata: dict[str, Any] | None = None, **container: Any) -> list[str]:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata or {"name": "web"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1.35", **container}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }
    return [str(e) for e in validate_pod(apply_defaults(pod))]


@pytest.mark.parametrize("uid", [UUID, UUID.upper(), HASH])
def test_a_manifest_uid_of_the_kubelets_shape_is_kept(uid: str) -> None:
    assert errors_of({"name": "web", "uid": uid}) == []


@pytest.mark.parametrize(
    "uid", ["/some/dir", "../../..", "..", ".", "a/b", "x\0y", "0" * 33, UUID + "/..", "g" * 32]
)
def test_any_other_manifest_uid_is_refused_naming_the_field(uid: str) -> None:
    (error,) = errors_of({"name": "web", "uid": uid})
    assert error.startswith("metadata.uid: Invalid value:")
    assert "must be a UUID" in error and "leave metadata.uid out" in error


@pytest.mark.parametrize(
    ("field", "value"),
    [("mountPath", "/a:b"), ("mountPath", "/a,ro"), ("subPath", "x:y"), ("subPath", "x,z")],
)
def test_bind_separators_are_refused_in_mounts(field: str, value: str) -> None:
    mount = {"name": "data", "mountPath": "/data", field: value}
    (error,) = errors_of(volumeMounts=[mount])
    assert error.startswith(f"spec.containers[0].volumeMounts[0].{field}: Invalid value:")
    assert "a Docker bind cannot express it" in error


def test_bind_separators_are_refused_in_host_paths_and_the_termination_path() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {
            "containers": [{"name": "c", "image": "b", "terminationMessagePath": "/dev/t:x"}],
            "volumes": [{"name": "h", "hostPath": {"path": "/srv/a:b"}}],
        },
    }
    found = [str(e) for e in validate_pod(apply_defaults(pod))]
    assert any(e.startswith("spec.volumes[0].hostPath.path: Invalid value:") for e in found), found
    assert any(e.startswith("spec.containers[0].terminationMessagePath: Invalid") for e in found), found


# --- safepath ----------------------------------------------------------------------------------------------


def test_beneath_refuses_names_that_are_not_one_plain_component(tmp_path: Path) -> None:
    for part in ("..", ".", "", "a/b", "/etc", "x\0"):
        with pytest.raises(safepath.UnsafePathError):
            safepath.beneath(tmp_path, part)
    assert safepath.beneath(tmp_path, "a", "b") == tmp_path / "a" / "b"


def test_beneath_refuses_a_planted_symlink_that_leads_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    base = tmp_path / "root"
    base.mkdir()
    (base / "link").symlink_to(outside)
    with pytest.raises(safepath.UnsafePathError, match="outside"):
        safepath.beneath(base, "link", "x")


def test_pod_dir_takes_only_uids(tmp_path: Path) -> None:
    assert volumes.pod_dir(str(tmp_path), HASH) == tmp_path / "pods" / HASH
    for uid in ("../../..", "/tmp", "x"):
        with pytest.raises(safepath.UnsafePathError):
            volumes.pod_dir(str(tmp_path), uid)


# --- teardown ----------------------------------------------------------------------------------------------


def canary(tmp_path: Path) -> Path:
    tree = tmp_path / "canary"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "precious").write_text("keep me")
    return tree


def test_teardown_refuses_an_unsafe_uid_and_deletes_nothing(tmp_path: Path) -> None:
    tree = canary(tmp_path)
    assert volumes.teardown(str(tmp_path / "root"), str(tree)) is False
    assert volumes.teardown(str(tmp_path / "root"), "../../canary") is False
    assert (tree / "sub" / "precious").read_text() == "keep me"


def test_teardown_drops_a_symlinked_pod_dir_but_not_its_target(tmp_path: Path) -> None:
    tree = canary(tmp_path)
    pods = tmp_path / "root" / "pods"
    pods.mkdir(parents=True)
    (pods / HASH).symlink_to(tree)
    assert volumes.teardown(str(tmp_path / "root"), HASH) is True
    assert not (pods / HASH).exists()
    assert (tree / "sub" / "precious").read_text() == "keep me"


def test_teardown_unmounts_before_deleting_so_a_bind_mounted_tree_survives(tmp_path: Path) -> None:
    tree = canary(tmp_path)
    point = tmp_path / "root" / "pods" / HASH / "volume-subpaths" / "v" / "c" / "0"
    point.mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(tree), str(point)], check=True)
    try:
        assert volumes.teardown(str(tmp_path / "root"), HASH) is True
    finally:
        if mounts.is_mount_point(point):
            subprocess.run(["umount", str(point)], check=False)
    assert not (tmp_path / "root" / "pods" / HASH).exists()
    assert (tree / "sub" / "precious").read_text() == "keep me"


def test_known_pod_dirs_lists_only_uids(tmp_path: Path) -> None:
    pods = tmp_path / "pods"
    for name in (HASH, UUID, "lost+found", "notes"):
        (pods / name).mkdir(parents=True)
    assert sorted(volumes.known_pod_dirs(str(tmp_path))) == sorted([HASH, UUID])


# --- subPath -----------------------------------------------------------------------------------------------


def prepare(volume: Path, sub: str, pod_dir: Path) -> str:
    return subpath.prepare(str(volume), sub, pod_dir, "data", "c", 0)


def test_a_subpath_is_created_and_bind_mounted_under_the_pod_dir(tmp_path: Path) -> None:
    volume, pod_dir = tmp_path / "vol", tmp_path / "pod"
    volume.mkdir()
    source = prepare(volume, "a/b", pod_dir)
    try:
        assert source == str(pod_dir / "volume-subpaths" / "data" / "c" / "0")
        assert mounts.is_mount_point(Path(source))
        Path(source, "written").write_text("through the bind")
        assert (volume / "a" / "b" / "written").read_text() == "through the bind"
        assert prepare(volume, "a/b", pod_dir) == source  # a restart mounts it again, no stacking
    finally:
        subprocess.run(["umount", source], check=False)
    assert not mounts.is_mount_point(Path(source))


@pytest.mark.parametrize("sub", ["escape", "escape/inner", "dir/escape"])
def test_a_subpath_through_a_planted_symlink_is_refused(tmp_path: Path, sub: str) -> None:
    tree = canary(tmp_path)
    volume = tmp_path / "vol"
    (volume / "dir").mkdir(parents=True)
    (volume / "escape").symlink_to(tree)
    (volume / "dir" / "escape").symlink_to(tree / "sub")
    with pytest.raises(subpath.SubPathError, match="is a symlink"):
        prepare(volume, sub, tmp_path / "pod")
    assert not (tree / "inner").exists()  # nothing was created through the link
    assert sorted(p.name for p in tree.rglob("*")) == ["precious", "sub"]


def test_a_subpath_through_a_file_is_refused(tmp_path: Path) -> None:
    volume = tmp_path / "vol"
    volume.mkdir()
    (volume / "file").write_text("x")
    with pytest.raises(subpath.SubPathError, match="is not a directory"):
        prepare(volume, "file/below", tmp_path / "pod")
