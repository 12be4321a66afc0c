"""What ``docker inspect`` shows of a pod, checked against dockershim (kubelet 1.20) without an engine.

The infra container's NetworkMode, the labels dockershim wrote (CRI labels as they are, annotations
with the ``annotation.`` prefix) and nothing the kubelet never wrote, the container hash as
``strconv.FormatUint(uint64(fnv32a), 16)`` prints it, and JSON labels as Go's ``json.Marshal`` writes them.
"""

from __future__ import annotations

import re
from pathlib import Path

from pykubelet.runtime import configs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.containers import classify
from pykubelet.runtime.docker import convert
from tests.unit.conftest import NODE, PAUSE, make_pod

PRE_STOP = {"exec": {"command": ["/bin/sh", "-c", "nginx -s quit && sleep 1 <x>"]}}


def _sandbox_create(**spec: object) -> tuple[dict[str, object], dict[str, object]]:
    pod = make_pod(**spec)
    settings = Settings("/var/lib/kubelet", "/var/log/pods", PAUSE)
    config = configs.sandbox_config(pod, node=NODE, settings=settings, attempt=0, log_directory="/x")
    return convert.sandbox_create(config)


def _container_labels() -> dict[str, str]:
    pod = make_pod(
        containers=[
            {
                "name": "web",
                "image": "nginx:1.22",
                "ports": [{"containerPort": 80, "name": "http"}],
                "lifecycle": {"preStop": PRE_STOP},
            }
        ],
        init=[{"name": "setup", "image": "busybox:1.35", "command": ["true"]}],
    )
    sandbox = Container("s" * 64, "POD", pod.uid, pod.name, pod.namespace, "sandbox", 0, "running", {})
    config = configs.container_config(
        pod,
        pod.spec["containers"][0],
        kind="container",
        restart_count=0,
        node=NODE,
        sandbox=sandbox,
        mounts=(),
        log_path="/var/log/pods/x/web/0.log",
    )
    return convert.container_create(sandbox, config)[1]["labels"]  # type: ignore[return-value]


def test_the_infra_container_network_mode_is_default_as_dockershim_without_a_plugin() -> None:
    assert _sandbox_create()[0]["network_mode"] == "default"
    assert _sandbox_create(hostNetwork=True)[0]["network_mode"] == "host"


def test_the_sandbox_carries_the_pods_annotations_and_no_grace_period() -> None:
    labels = _sandbox_create()[1]["labels"]
    assert isinstance(labels, dict)
    annotations = {k.removeprefix("annotation."): v for k, v in labels.items() if k.startswith("annotation.")}
    assert annotations == make_pod().metadata["annotations"]
    assert L.GRACE_PERIOD not in annotations
    pykubelet_own = {k for k in labels if k.startswith("io.pykubelet.")}
    assert pykubelet_own == {L.NODE}
    assert labels["io.kubernetes.container.name"] == "POD"
    assert labels["io.kubernetes.docker.type"] == "podsandbox"


def test_container_labels_are_exactly_dockershims() -> None:
    labels = _container_labels()
    assert set(labels) == {
        "io.kubernetes.pod.name",
        "io.kubernetes.pod.namespace",
        "io.kubernetes.pod.uid",
        "io.kubernetes.container.name",
        "io.kubernetes.docker.type",
        "io.kubernetes.sandbox.id",
        "io.kubernetes.container.logpath",
        "annotation.io.kubernetes.container.hash",
        "annotation.io.kubernetes.container.restartCount",
        "annotation.io.kubernetes.container.terminationMessagePath",
        "annotation.io.kubernetes.container.terminationMessagePolicy",
        "annotation.io.kubernetes.pod.terminationGracePeriod",
        "annotation.io.kubernetes.container.preStopHandler",
        "annotation.io.kubernetes.container.ports",
        L.NODE,
    }


def test_json_labels_are_compact_and_html_escaped_as_gos_encoder_writes_them() -> None:
    labels = _container_labels()
    assert labels["annotation.io.kubernetes.container.preStopHandler"] == (
        '{"exec":{"command":["/bin/sh","-c","nginx -s quit \\u0026\\u0026 sleep 1 \\u003cx\\u003e"]}}'
    )
    assert labels["annotation.io.kubernetes.container.ports"] == (
        '[{"containerPort":80,"name":"http","protocol":"TCP"}]'
    )


def test_the_container_hash_is_unpadded_hex_of_a_32_bit_fnv1a() -> None:
    assert L.fnv32a(b"") == 0x811C9DC5 and L.fnv32a(b"hello") == 0x4F9F2CAB  # Go's hash/fnv vectors
    value = _container_labels()["annotation.io.kubernetes.container.hash"]
    assert re.fullmatch(r"[0-9a-f]{1,8}", value) and not value.startswith("0")
    assert int(value, 16) < 2**32
    hashes = {L.container_hash({"name": "a", "image": f"busybox:{n}"}) for n in range(400)}
    assert any(len(h) < 8 for h in hashes)  # no zero padding (1 in 16 hashes is shorter)


def test_init_or_app_comes_from_the_pod_spec_not_a_label(tmp_path: Path) -> None:
    pod = make_pod(init=[{"name": "setup", "image": "busybox:1.35"}])
    records = [
        Container(str(n), name, pod.uid, pod.name, pod.namespace, "container", 0, "exited", {})
        for n, name in enumerate(["setup", "app"])
    ]
    assert [c.kind for c in classify(pod, records)] == ["init", "container"]
    assert [c.kind for c in classify(None, records)] == ["container", "container"]
