"""StatsCollector over FakeRuntime: what the runtime measures reaches ``/stats/summary`` and the metrics.

The kubelet's CRI stats provider asks the runtime (``ListContainerStats``) only for what the runtime
alone knows, the writable layer and the image filesystem, and reads the rest itself; pykubelet does the
same through the runtime interface, so both runtimes fill the same fields. A runtime that cannot answer
costs those fields, never the summary.
"""

from __future__ import annotations

from pathlib import Path

from pykubelet.manifest import StaticPod
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from pykubelet.statscollector import StatsCollector
from pykubelet.statusmanager import StatusManager
from tests.unit.conftest import NODE, make_pod


def collector(fake: FakeRuntime, pod: StaticPod, root: Path) -> StatsCollector:
    desired = {pod.uid: pod}
    status = StatusManager("10.0.0.1", lambda: desired)
    return StatsCollector(NODE.name, str(root), fake, lambda: desired, status, lambda summary: None)


async def test_the_runtime_measures_writable_layers_and_names_its_containers(
    fake: FakeRuntime, manager: RuntimeManager, tmp_path: Path
) -> None:
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35"}])
    await manager.sync_pod(pod)
    fake.writable_layer_bytes = 12345
    stats = collector(fake, pod, tmp_path)
    (ref,) = await stats.pod_refs()
    app = fake.find("app")
    (container,) = ref.containers
    assert container.rootfs == (12345, 1)
    assert container.runtime_name == app.runtime_name
    assert ref.sandbox is not None and ref.sandbox.rootfs is None  # the sandbox is not asked about
    (call,) = fake.args("list_container_stats")
    assert call == ((app.id,),)


async def test_a_runtime_that_cannot_measure_costs_only_the_rootfs(
    fake: FakeRuntime, manager: RuntimeManager, tmp_path: Path
) -> None:
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35"}])
    await manager.sync_pod(pod)

    async def broken(container_ids: object) -> dict[str, object]:
        raise ConnectionError("ListContainerStats: unimplemented")

    fake.list_container_stats = broken  # type: ignore[method-assign,assignment]
    (ref,) = await collector(fake, pod, tmp_path).pod_refs()
    (container,) = ref.containers
    assert container.rootfs is None and container.pid > 0


async def test_a_runtime_that_cannot_say_where_its_images_are_keeps_the_last_answer(
    fake: FakeRuntime, manager: RuntimeManager, tmp_path: Path
) -> None:
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35"}])
    await manager.sync_pod(pod)
    fake.image_fs = str(tmp_path)
    stats = collector(fake, pod, tmp_path)
    assert await stats._image_fs() == str(tmp_path)
    stats._provider.image_fs = str(tmp_path)

    async def broken() -> str:
        raise ConnectionError("ImageFsInfo: deadline exceeded")

    fake.image_fs_mountpoint = broken  # type: ignore[method-assign]
    assert await stats._image_fs() == str(tmp_path)
