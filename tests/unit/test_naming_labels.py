"""k8s_ names and io.kubernetes.* labels, as dockershim wrote them."""

from __future__ import annotations

from pykubelet.manifest import StaticPod
from pykubelet.node import Node
from pykubelet.runtime import configs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.docker import convert
from pykubelet.runtime.docker.naming import container_name, parse_name, sandbox_name

UID = "0a8863810b43d4d891fab0af80e28e4c"


def _pod() -> StaticPod:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-node1",
            "namespace": "default",
            "uid": UID,
            "labels": {"app": "web"},
            "annotations": {"kubernetes.io/config.source": "file", "kubernetes.io/config.hash": UID},
        },
        "spec": {
            "terminationGracePeriodSeconds": 45,
            "containers": [{"name": "nginx", "image": "nginx:1.22"}],
        },
    }
    return StaticPod(UID, "web-node1", "default", "/etc/kubernetes/manifests/web.yaml", obj)


def test_names_round_trip() -> None:
    assert sandbox_name("web-node1", "default", UID, 0) == f"k8s_POD_web-node1_default_{UID}_0"
    name = container_name("nginx", "web-node1", "default", UID, 3)
    assert name == f"k8s_nginx_web-node1_default_{UID}_3"
    parsed = parse_name("/" + name)
    assert parsed is not None
    assert (parsed.container, parsed.pod_name, parsed.namespace, parsed.pod_uid, parsed.attempt) == (
        "nginx",
        "web-node1",
        "default",
        UID,
        3,
    )
    assert not parsed.is_sandbox
    assert parse_name(f"k8s_POD_web-node1_default_{UID}_0_1a2b3c4d").is_sandbox  # dockershim's random suffix


def test_foreign_names_are_not_ours() -> None:
    assert parse_name("/festive_hopper") is None
    assert parse_name("k8s_a_b_c_d_notanumber") is None
    assert parse_name("xyz_a_b_c_d_0") is None


NODE = Node(name="node1", host_ip="192.0.2.10", memory_capacity=8 << 30, cpu_count=2)
SETTINGS = Settings("/var/lib/pykubelet", "/var/log/pods", "registry.k8s.io/pause:3.10")


def test_sandbox_labels_carry_pod_labels_and_annotations() -> None:
    config = configs.sandbox_config(_pod(), node=NODE, settings=SETTINGS, attempt=0, log_directory="")
    _, create = convert.sandbox_create(config)
    labels = create["labels"]
    assert create["name"] == f"k8s_POD_web-node1_default_{UID}_0"
    assert labels["app"] == "web"
    assert labels["annotation.kubernetes.io/config.source"] == "file"
    assert labels[convert.DOCKER_TYPE] == "podsandbox"
    assert labels[L.CONTAINER_NAME] == "POD"
    assert labels[L.POD_UID] == UID
    assert labels[L.NODE] == "node1"


def test_container_labels_write_annotations_with_the_prefix() -> None:
    pod = _pod()
    container = {
        "name": "nginx",
        "image": "nginx:1.22",
        "terminationMessagePath": "/dev/termination-log",
        "ports": [{"containerPort": 80}],
        "lifecycle": {"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}},
    }
    sandbox = Container("abc", "POD", UID, "web-node1", "default", "sandbox", 0, "running", {})
    config = configs.container_config(
        pod,
        container,
        kind="container",
        restart_count=2,
        node=NODE,
        sandbox=sandbox,
        mounts=(),
        log_path="/var/log/pods/x/nginx/2.log",
    )
    _, create = convert.container_create(sandbox, config)
    labels = create["labels"]
    assert create["name"] == f"k8s_nginx_web-node1_default_{UID}_2"
    assert labels["annotation.io.kubernetes.container.restartCount"] == "2"
    assert labels["annotation.io.kubernetes.pod.terminationGracePeriod"] == "45"
    assert labels["annotation.io.kubernetes.container.terminationMessagePath"] == "/dev/termination-log"
    assert (
        labels["annotation.io.kubernetes.container.preStopHandler"]
        == '{"exec":{"command":["nginx","-s","quit"]}}'  # compact, as Go's encoder writes it
    )
    assert labels["annotation.io.kubernetes.container.ports"] == '[{"containerPort":80}]'
    assert labels[convert.SANDBOX_ID] == "abc"
    assert labels[convert.LOG_PATH] == "/var/log/pods/x/nginx/2.log"
    assert labels[convert.DOCKER_TYPE] == "container"
    assert len(labels["annotation.io.kubernetes.container.hash"]) == 8


def test_docker_labels_split_back_into_labels_and_annotations() -> None:
    labels, annotations = convert.split_labels({"app": "web", "annotation.a/b": "1", L.POD_UID: UID})
    assert labels == {"app": "web", L.POD_UID: UID}
    assert annotations == {"a/b": "1"}
    assert convert.make_labels(labels, annotations) == {"app": "web", "annotation.a/b": "1", L.POD_UID: UID}


def test_container_hash_changes_with_the_spec_only() -> None:
    a = {"name": "nginx", "image": "nginx:1.22"}
    assert L.container_hash(a) == L.container_hash(dict(reversed(list(a.items()))))
    assert L.container_hash(a) != L.container_hash({**a, "image": "nginx:1.23"})
