"""The Docker adapter on its own against the real engine: what pod workers asking at once get back.

Fifty pods added or deleted together each ask for their containers at the same moment. They must
share a few ``docker ps`` calls rather than make fifty, and each must still see exactly its own
containers, including one created just before it asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from pykubelet.runtime import labels as L
from pykubelet.runtime.docker import DockerRuntime
from tests.integration.conftest import connect_docker

PAUSE = "registry.k8s.io/pause:3.10"


@pytest.fixture
def node() -> Iterator[str]:
    """A node name of its own; every container labelled with it is removed afterwards."""
    name = f"test-runtime-{secrets.token_hex(4)}"
    yield name
    api = connect_docker((PAUSE,))
    for c in api.containers(all=True, filters={"label": f"{L.NODE}={name}"}):
        with contextlib.suppress(docker.errors.NotFound):
            api.remove_container(c["Id"], force=True)


def create(api: docker.APIClient, node: str, uid: str) -> str:
    labels = {L.NODE: node, L.POD_UID: uid, L.CONTAINER_NAME: "app"}
    name = f"k8s_app_test-{uid}_default_{uid}_0"  # the kubelet's naming, which the adapter parses
    return str(api.create_container(PAUSE, name=name, labels=labels)["Id"])


def test_concurrent_askers_share_listings_and_each_sees_its_own(node: str) -> None:
    api = connect_docker((PAUSE,))
    uids = [f"{node}-{i:02d}" for i in range(20)]
    expected = {uid: create(api, node, uid) for uid in uids}

    async def scenario() -> tuple[dict[str, list[str]], list[str], list[str]]:
        runtime = DockerRuntime("unix:///var/run/docker.sock", node)
        calls: list[str] = []
        runtime.on_operation = lambda op, _seconds, _ok: calls.append(op)
        try:
            results = await asyncio.gather(*(runtime.list_pod_containers(uid) for uid in uids))
            seen = {uid: [c.id for c in r] for uid, r in zip(uids, results, strict=True)}
            listings = [op for op in calls if op == "list_containers"]
            # asked after a container was created, while another listing may still be in flight
            first = asyncio.create_task(runtime.list_pod_containers(uids[0]))
            late = await asyncio.to_thread(create, api, node, f"{node}-late")
            found = [c.id for c in await runtime.list_pod_containers(f"{node}-late")]
            await first
            return seen, listings, [late, *found]
        finally:
            runtime.close()

    seen, listings, (late, *found) = asyncio.run(scenario())
    assert seen == {uid: [cid] for uid, cid in expected.items()}
    assert len(listings) <= 2  # the first asker's own, then one for all who asked meanwhile
    assert found == [late]
