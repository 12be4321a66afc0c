"""The Summary API's storage numbers: emptyDir volumes, the writable layer (rootfs), container logs, the
pod's ephemeral-storage, and the bounded walk that measures them."""

from __future__ import annotations

import os
from pathlib import Path

from pykubelet.runtime.docker.stats import WritableLayers
from pykubelet.stats import disk, disk_usage
from tests.unit.stats_support import APP_ID, STAMP0, T0, Clock, Host, pod, write
from tests.unit.stats_support import host_fixture as host_fixture  # fixture


def test_emptydir_volume_usage_counts_blocks_and_inodes_once(host: Host, tmp_path: Path) -> None:
    volume = tmp_path / "kubelet/pods/u/volumes/kubernetes.io~empty-dir/cache"
    write(volume / "a", "x" * 5000)
    write(volume / "sub/b", "0123456789")
    os.link(volume / "a", volume / "sub/a-again")  # a hard link is one inode, counted once
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([pod({"cache": str(volume)})])
    (stats,) = summary["pods"][0]["volume"]
    counted = [volume, volume / "a", volume / "sub", volume / "sub/b"]
    assert stats["name"] == "cache"
    assert stats["time"] == STAMP0
    assert stats["usedBytes"] == sum(os.lstat(p).st_blocks * 512 for p in counted)
    assert stats["inodesUsed"] == 4
    assert stats["capacityBytes"] == os.statvfs(volume).f_blocks * os.statvfs(volume).f_frsize
    assert stats["inodes"] == os.statvfs(volume).f_files


def test_rootfs_logs_and_ephemeral_storage(host: Host, tmp_path: Path) -> None:
    # The Docker runtime measures the writable layer: overlay2's diff, found through the layer database.
    write(host.docker / f"image/overlay2/layerdb/mounts/{APP_ID}/mount-id", "m0unt\n")
    write(host.docker / "overlay2/m0unt/diff/tmp/scratch", "y" * 3000)
    (layer,) = WritableLayers().measure(str(host.docker), [APP_ID, "0" * 64]).values()
    logs = host.docker / "containers" / APP_ID
    write(logs / f"{APP_ID}-json.log", "z" * 100)
    write(logs / f"{APP_ID}-json.log.1", "z" * 9000)
    write(logs / "config.v2.json", "{}")  # not a log
    # The kubelet's link to the log, as the agent makes it on a Docker node: the file behind it counts.
    link = tmp_path / "pods" / "default_web_u" / "app" / "0.log"
    link.parent.mkdir(parents=True)
    link.symlink_to(logs / f"{APP_ID}-json.log")
    volume = tmp_path / "vol"
    write(volume / "f", "v")
    ref = pod({"v": str(volume)})
    ref.containers[0].rootfs = (layer.writable_layer_bytes, layer.writable_layer_inodes)
    ref.containers[0].log_path = str(link)
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([ref])
    stats = summary["pods"][0]
    (app,) = stats["containers"]
    diff = host.docker / "overlay2/m0unt/diff"
    rootfs_used = sum(os.lstat(p).st_blocks * 512 for p in (diff, diff / "tmp", diff / "tmp/scratch"))
    logs_used = sum(os.lstat(p).st_blocks * 512 for p in logs.glob(f"{APP_ID}-json.log*"))
    assert (app["rootfs"]["usedBytes"], app["rootfs"]["inodesUsed"]) == (rootfs_used, 3)
    assert (app["logs"]["usedBytes"], app["logs"]["inodesUsed"]) == (logs_used, 2)
    volume_used = stats["volume"][0]["usedBytes"]
    assert stats["ephemeral-storage"]["usedBytes"] == rootfs_used + logs_used + volume_used
    assert stats["ephemeral-storage"]["inodesUsed"] == 3 + 2 + 2


def test_sections_that_cannot_be_read_are_left_out(host: Host, tmp_path: Path) -> None:
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([pod()])
    (app,) = summary["pods"][0]["containers"]
    assert "rootfs" not in app  # the runtime measured no writable layer
    assert "logs" not in app
    assert "ephemeral-storage" not in summary["pods"][0]
    assert "volume" not in summary["pods"][0]


def test_disk_usage_stops_after_the_entry_limit(tmp_path: Path) -> None:
    for i in range(50):
        write(tmp_path / f"d/f{i}", "x")
    used, inodes = disk_usage(str(tmp_path / "d"), max_entries=10) or (0, 0)
    assert inodes <= 10
    assert used > 0
    assert disk_usage(str(tmp_path / "missing")) is None


def test_cri_logs_count_the_whole_container_log_directory_docker_logs_only_their_file(tmp_path: Path) -> None:
    """The kubelet's CRI stats provider measures ``/var/log/pods/<pod>/<container>/``, so the previous
    instance's log counts too; a Docker container's directory also holds its config, which does not."""
    cri = tmp_path / "default_web_uid" / "nginx"
    cri.mkdir(parents=True)
    for name in ("0.log", "1.log", "1.log.20261202-070000"):
        (cri / name).write_bytes(b"x" * 4096)
    docker = tmp_path / "containers" / "abc"
    docker.mkdir(parents=True)
    for name in ("abc-json.log", "abc-json.log.1", "config.v2.json", "hostconfig.json"):
        (docker / name).write_bytes(b"x" * 4096)

    assert disk.logs_json(str(cri / "1.log"), "now")["inodesUsed"] == 3  # type: ignore[index]
    assert disk.logs_json(str(docker / "abc-json.log"), "now")["inodesUsed"] == 2  # type: ignore[index]
