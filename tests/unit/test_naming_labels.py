"""k8s_ names and io.kubernetes.* labels, as dockershim wrote them."""

from __future__ import annotations

from pykubelet.manifest import StaticPod
from pykubelet.runtime import labels as L
from pykubelet.runtime.naming import container_name, parse_name, sandbox_name

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


def test_sandbox_labels_carry_pod_labels_and_annotations() -> None:
    labels = L.sandbox_labels(_pod(), "node1")
    assert labels["app"] == "web"
    assert labels["annotation.kubernetes.io/config.source"] == "file"
    assert labels[L.DOCKER_TYPE] == "podsandbox"
    assert labels[L.CONTAINER_NAME] == "POD"
    assert labels[L.POD_UID] == UID
    assert labels[L.NODE] == "node1"


def test_container_labels_write_annotations_with_the_prefix() -> None:
    pod = _pod()
    container = {
        "name": "nginx",
        "image": "nginx:1.22",
        "ports": [{"containerPort": 80}],
        "lifecycle": {"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}},
    }
    labels = L.container_labels(
        pod,
        container,
        node="node1",
        sandbox_id="abc",
        restart_count=2,
        kind="container",
        log_path="/var/log/pods/x/nginx/2.log",
    )
    assert labels["annotation.io.kubernetes.container.restartCount"] == "2"
    assert labels["annotation.io.kubernetes.pod.terminationGracePeriod"] == "45"
    assert labels["annotation.io.kubernetes.container.terminationMessagePath"] == "/dev/termination-log"
    assert (
        labels["annotation.io.kubernetes.container.preStopHandler"]
        == '{"exec": {"command": ["nginx", "-s", "quit"]}}'
    )
    assert labels["annotation.io.kubernetes.container.ports"] == '[{"containerPort": 80}]'
    assert labels[L.SANDBOX_ID] == "abc"
    assert labels[L.DOCKER_TYPE] == "container"
    assert len(labels["annotation.io.kubernetes.container.hash"]) == 8


def test_container_hash_changes_with_the_spec_only() -> None:
    a = {"name": "nginx", "image": "nginx:1.22"}
    assert L.container_hash(a) == L.container_hash(dict(reversed(list(a.items()))))
    assert L.container_hash(a) != L.container_hash({**a, "image": "nginx:1.23"})
