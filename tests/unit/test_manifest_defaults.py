"""The v1 API defaults: they decide restarts, pulls and QoS, so each one is pinned here."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pykubelet.manifest.defaults import apply_defaults, parse_image_name

DIGEST = "sha256:" + "a" * 64


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": spec}


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "web", "image": "nginx:1.25", **fields}


def defaulted_container(**fields: Any) -> dict[str, Any]:
    return apply_defaults(pod(containers=[container(**fields)]))["spec"]["containers"][0]


# --- pod and spec ------------------------------------------------------------------------------------------


def test_pod_spec_defaults() -> None:
    spec = apply_defaults(pod(containers=[]))["spec"]
    assert spec == {
        "containers": [],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
    }


def test_explicit_values_win_including_pointer_zeros() -> None:
    explicit = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "dnsPolicy": "Default",
        "securityContext": {"runAsUser": 1000},
        "schedulerName": "mine",
        "enableServiceLinks": False,
    }
    assert apply_defaults(pod(**explicit))["spec"] == explicit


def test_null_and_empty_strings_count_as_unset() -> None:
    spec = apply_defaults(pod(restartPolicy=None, dnsPolicy="", terminationGracePeriodSeconds=None))["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"]) == (
        "Always",
        "ClusterFirst",
        30,
    )


@pytest.mark.parametrize(
    ("namespace", "expected"), [(None, "default"), ("", "default"), ("kube-system", "kube-system")]
)
def test_namespace_defaults_to_default(namespace: str | None, expected: str) -> None:
    document = pod()
    document["metadata"]["namespace"] = namespace
    assert apply_defaults(document)["metadata"]["namespace"] == expected


def test_missing_metadata_and_spec_are_created() -> None:
    defaulted = apply_defaults({"apiVersion": "v1", "kind": "Pod"})
    assert defaulted["metadata"] == {"namespace": "default"}
    assert defaulted["spec"]["restartPolicy"] == "Always"


def test_the_input_is_not_modified() -> None:
    document = pod(containers=[container(ports=[{"containerPort": 80}])])
    original = copy.deepcopy(document)
    apply_defaults(document)
    assert document == original


# --- containers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["containers", "initContainers"])
def test_container_defaults_apply_to_both_lists(key: str) -> None:
    defaulted = apply_defaults(pod(**{key: [container()]}))["spec"][key][0]
    assert defaulted == {
        "name": "web",
        "image": "nginx:1.25",
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "resources": {},
    }


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("docker.io/library/nginx", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        (f"nginx@{DIGEST}", "IfNotPresent"),
        (f"nginx:latest@{DIGEST}", "Always"),  # upstream looks at the tag alone
        ("localhost:5000/app", "Always"),  # a registry port is not a tag
        ("localhost:5000/app:v2", "IfNotPresent"),
        ("registry.example.com:443/team/app", "Always"),
        (f"registry.example.com:443/team/app@{DIGEST}", "IfNotPresent"),
        ("gcr.io/google_containers/pause-amd64:3.0", "IfNotPresent"),
        ("NGINX", "IfNotPresent"),  # unparsable: the runtime reports InvalidImageName
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert defaulted_container(image=image)["imagePullPolicy"] == policy


def test_explicit_pull_policy_is_kept() -> None:
    assert defaulted_container(image="nginx", imagePullPolicy="Never")["imagePullPolicy"] == "Never"


@pytest.mark.parametrize(
    ("image", "parsed"),
    [
        ("nginx", ("docker.io/library/nginx", "latest", "")),
        ("nginx:1.25", ("docker.io/library/nginx", "1.25", "")),
        ("library/nginx:1.25", ("docker.io/library/nginx", "1.25", "")),
        ("index.docker.io/nginx", ("docker.io/library/nginx", "latest", "")),
        ("bitnami/redis:7", ("docker.io/bitnami/redis", "7", "")),
        ("localhost:5000/app", ("localhost:5000/app", "latest", "")),
        ("localhost/app:v1", ("localhost/app", "v1", "")),
        ("[::1]:5000/app:v1", ("[::1]:5000/app", "v1", "")),
        (f"quay.io/a/b@{DIGEST}", ("quay.io/a/b", "", DIGEST)),
        (f"quay.io/a/b:v1@{DIGEST}", ("quay.io/a/b", "v1", DIGEST)),
    ],
)
def test_parse_image_name_normalises_like_docker(image: str, parsed: tuple[str, str, str]) -> None:
    assert parse_image_name(image) == parsed


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("", "invalid reference format"),
        ("NGINX", "invalid reference format"),
        (" nginx", "invalid reference format"),
        ("nginx:", "invalid reference format"),
        ("a" * 64, "cannot specify 64-byte hexadecimal strings"),
        ("x" * 5000, "at most 4096 characters"),
        ("Registry.io/App", "invalid reference format"),
    ],
)
def test_parse_image_name_refuses_what_docker_refuses(image: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_image_name(image)


def test_requests_default_to_limits_per_resource() -> None:
    resources = {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}}
    assert defaulted_container(resources=resources)["resources"] == {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "100m", "memory": "128Mi"},
    }


def test_limits_alone_give_equal_requests_and_no_limits_give_none() -> None:
    assert defaulted_container(resources={"limits": {"cpu": "1"}})["resources"]["requests"] == {"cpu": "1"}
    assert defaulted_container(resources={"requests": {"cpu": "1"}})["resources"] == {
        "requests": {"cpu": "1"}
    }


def test_ports_default_to_tcp() -> None:
    ports = defaulted_container(ports=[{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}])[
        "ports"
    ]
    assert ports == [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 53, "protocol": "UDP"}]


def test_host_network_makes_host_port_the_container_port() -> None:
    ports = [
        {"containerPort": 80},
        {"containerPort": 81, "hostPort": 0},
        {"containerPort": 82, "hostPort": 9000},
    ]
    spec = apply_defaults(pod(hostNetwork=True, initContainers=[container(ports=[{"containerPort": 70}])],
                              containers=[container(ports=ports)]))["spec"]  # fmt: skip
    assert [p["hostPort"] for p in spec["containers"][0]["ports"]] == [80, 81, 9000]
    assert spec["initContainers"][0]["ports"][0]["hostPort"] == 70


def test_without_host_network_host_port_stays_unset() -> None:
    assert "hostPort" not in defaulted_container(ports=[{"containerPort": 80}])["ports"][0]


def test_env_field_ref_api_version_defaults_to_v1() -> None:
    env = [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "A", "value": "b"},
    ]
    assert defaulted_container(env=env)["env"] == [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}},
        {"name": "A", "value": "b"},
    ]


@pytest.mark.parametrize("probe", ["livenessProbe", "readinessProbe", "startupProbe"])
def test_probe_defaults(probe: str) -> None:
    defaulted = defaulted_container(
        **{probe: {"httpGet": {"port": 80}, "periodSeconds": 0, "failureThreshold": 5}}
    )
    assert defaulted[probe] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "periodSeconds": 10,  # 0 is the Go zero value: unset
        "failureThreshold": 5,
        "timeoutSeconds": 1,
        "successThreshold": 1,
    }


def test_lifecycle_http_get_defaults() -> None:
    lifecycle = {
        "preStop": {"httpGet": {"port": 80, "path": "/quit"}},
        "postStart": {"exec": {"command": ["x"]}},
    }
    assert defaulted_container(lifecycle=lifecycle)["lifecycle"] == {
        "preStop": {"httpGet": {"port": 80, "path": "/quit", "scheme": "HTTP"}},
        "postStart": {"exec": {"command": ["x"]}},
    }


# --- volumes -----------------------------------------------------------------------------------------------


def test_a_volume_without_a_source_is_an_empty_dir() -> None:
    volumes = [
        {"name": "a"},
        {"name": "b", "emptyDir": None},
        {"name": "c", "emptyDir": {"medium": "Memory"}},
    ]
    assert apply_defaults(pod(volumes=volumes))["spec"]["volumes"] == [
        {"name": "a", "emptyDir": {}},
        {"name": "b", "emptyDir": {}},
        {"name": "c", "emptyDir": {"medium": "Memory"}},
    ]


def test_host_path_type_defaults_to_unset() -> None:
    volumes = [
        {"name": "a", "hostPath": {"path": "/a"}},
        {"name": "b", "hostPath": {"path": "/b", "type": "File"}},
    ]
    assert [v["hostPath"]["type"] for v in apply_defaults(pod(volumes=volumes))["spec"]["volumes"]] == [
        "",
        "File",
    ]


def test_other_volume_sources_are_left_for_validation() -> None:
    volumes = [{"name": "cm", "configMap": {"name": "x"}}]
    assert apply_defaults(pod(volumes=volumes))["spec"]["volumes"] == volumes


# --- wrong types are left alone ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"metadata": "web", "spec": ["x"]},
        pod(containers="nginx", initContainers={"a": 1}, volumes="logs"),
        pod(containers=["nginx", None, 3], volumes=[None, "x", 3]),
        pod(
            containers=[container(resources=[], ports="80", env={"A": 1}, livenessProbe="yes", lifecycle=[])]
        ),
        pod(containers=[container(resources={"limits": "1"}, ports=[None, 80], env=[{"valueFrom": "x"}])]),
        pod(containers=[container(image=5, readinessProbe={"httpGet": "/"}, lifecycle={"preStop": "x"})]),
        pod(volumes=[{"name": "h", "hostPath": "/x"}], restartPolicy=5, hostNetwork="yes"),
    ],
)
def test_wrong_types_do_not_crash_and_are_kept_for_validation(document: dict[str, Any]) -> None:
    apply_defaults(document)


def test_wrong_types_are_not_overwritten() -> None:
    spec = apply_defaults(pod(restartPolicy=5, containers="nginx"))["spec"]
    assert (spec["restartPolicy"], spec["containers"]) == (5, "nginx")
    assert (
        "imagePullPolicy" not in apply_defaults(pod(containers=[{"image": ["x"]}]))["spec"]["containers"][0]
    )
