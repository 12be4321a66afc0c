"""A static pod's identity: the UID decides whether an edit replaces the pod, so its inputs are pinned."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from pykubelet.manifest import identity
from pykubelet.manifest.defaults import apply_defaults
from pykubelet.manifest.identity import make_static, node_name_default, pod_uid
from pykubelet.manifest.validate import validate_identity

SOURCE = "/etc/kubernetes/manifests/web.yaml"
TOLERATION = {"operator": "Exists", "effect": "NoExecute"}


def defaulted(**metadata: Any) -> dict[str, Any]:
    return apply_defaults({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", **metadata},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
    })  # fmt: skip


def static(pod: dict[str, Any] | None = None, node: str = "node1", source: str = SOURCE) -> dict[str, Any]:
    return make_static(pod or defaulted(), node_name=node, source=source)


def test_uid_is_32_hex_characters_and_reused_as_the_config_hash() -> None:
    metadata = static()["metadata"]
    assert re.fullmatch(r"[0-9a-f]{32}", metadata["uid"])
    assert metadata["annotations"]["kubernetes.io/config.hash"] == metadata["uid"]


def test_identical_content_node_and_path_give_the_same_uid() -> None:
    assert static()["metadata"]["uid"] == static(defaulted())["metadata"]["uid"]


@pytest.mark.parametrize(
    "change",
    [
        {"pod": defaulted(labels={"tier": "web"})},
        {"node": "node2"},
        {"source": "/etc/kubernetes/manifests/copy-of-web.yaml"},
    ],
)
def test_content_node_and_path_each_change_the_uid(change: dict[str, Any]) -> None:
    assert static(**change)["metadata"]["uid"] != static()["metadata"]["uid"]


def test_any_spec_change_changes_the_uid() -> None:
    pod = defaulted()
    pod["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert static(pod)["metadata"]["uid"] != static()["metadata"]["uid"]


def test_file_uid_hashes_the_pod_then_host_then_path() -> None:
    import hashlib
    import json

    pod = defaulted()
    expected = hashlib.md5(usedforsecurity=False)
    expected.update(json.dumps(pod, sort_keys=True, separators=(",", ":")).encode())
    expected.update(b"host:node1")
    expected.update(f"file:{SOURCE}".encode())
    assert pod_uid(pod, node_name="node1", source=SOURCE) == expected.hexdigest()


def test_url_uid_hashes_the_url_and_not_the_node() -> None:
    url = "http://config.example/pods.yaml"
    on_one = pod_uid(defaulted(), node_name="node1", source=url, config_source="http")
    assert on_one == pod_uid(defaulted(), node_name="node2", source=url, config_source="http")
    assert on_one != pod_uid(defaulted(), node_name="node1", source=url)


def test_an_explicit_uid_is_kept_so_edits_become_updates() -> None:
    metadata = static(defaulted(uid="my-own-uid"))["metadata"]
    assert metadata["uid"] == "my-own-uid"
    assert metadata["annotations"]["kubernetes.io/config.hash"] == "my-own-uid"


def test_name_gets_the_lowercased_node_name() -> None:
    assert static(node="My-Node1")["metadata"]["name"] == "web-my-node1"


def test_node_name_and_namespace_are_set() -> None:
    pod = static(node="My-Node1")
    assert pod["spec"]["nodeName"] == "My-Node1"
    assert pod["metadata"]["namespace"] == "default"
    assert static(defaulted(namespace="kube-system"))["metadata"]["namespace"] == "kube-system"


def test_config_annotations_join_the_users_own_and_seen_is_left_to_the_config_layer() -> None:
    annotations = static(defaulted(annotations={"team": "web"}))["metadata"]["annotations"]
    assert annotations.keys() == {"team", "kubernetes.io/config.hash", "kubernetes.io/config.source"}
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["team"] == "web"


def test_config_seen_does_not_feed_the_uid() -> None:
    seen = defaulted(annotations={"kubernetes.io/config.seen": "2024-01-01T00:00:00Z"})
    assert "kubernetes.io/config.seen" not in static()["metadata"]["annotations"]
    assert (
        static(seen)["metadata"]["uid"] != static()["metadata"]["uid"]
    )  # it is content if the user wrote it


def test_creation_timestamp_is_null_like_the_kubelets() -> None:
    assert static()["metadata"]["creationTimestamp"] is None


def test_the_no_execute_toleration_is_added_once() -> None:
    pod = defaulted()
    pod["spec"]["tolerations"] = [
        {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}
    ]
    once = static(pod)
    assert once["spec"]["tolerations"] == [*pod["spec"]["tolerations"], TOLERATION]
    twice = make_static(once, node_name="node1", source=SOURCE)
    assert twice["spec"]["tolerations"].count(TOLERATION) == 1


def test_url_pods_get_no_toleration_like_upstream() -> None:
    pod = make_static(defaulted(), node_name="node1", source="http://x/pod", config_source="http")
    assert "tolerations" not in pod["spec"]
    assert pod["metadata"]["annotations"]["kubernetes.io/config.source"] == "http"


def test_the_input_is_not_modified() -> None:
    pod = defaulted()
    original = copy.deepcopy(pod)
    static(pod)
    assert pod == original


def test_node_name_default_is_the_lowercased_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity.socket, "gethostname", lambda: "Build-Host.Example")
    assert node_name_default() == "build-host.example"


def test_generated_names_must_stay_valid() -> None:
    assert validate_identity(static()) == []
    too_long = static(defaulted(name="w" * 250))
    assert [str(e) for e in validate_identity(too_long)] == [
        f'metadata.name: Invalid value: "{"w" * 250}-node1": must be no more than 253 characters'
    ]
    underscore = [str(e) for e in validate_identity(static(node="node_1"))]
    assert underscore == [
        'metadata.name: Invalid value: "web-node_1": a lowercase RFC 1123 subdomain must consist of lower '
        "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    ]
