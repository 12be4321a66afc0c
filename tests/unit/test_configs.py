"""What the runtime is given (``runtime/configs.py``) and the volumes made for it (``volumes.py``).

``generateContainerConfig`` resolves everything before the runtime sees it: the environment in order
with ``$(VAR)`` expansion and the downward API, CPU shares and CFS quota from requests and limits, the
memory limit, the OOM score from the QoS class, the security context of pod and container merged.
``generatePodSandboxConfig`` turns hostPorts into port mappings. The cases are the kubelet's; pods are
built as the file source builds them (defaults, validation).
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from cri_api.v1 import api_pb2 as pb

from pykubelet import qos, volumes
from pykubelet.node import Node
from pykubelet.runtime import configs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container, ContainerConfig, PortMapping
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.cri import convert
from tests.unit.conftest import NODE, PAUSE, make_pod

SETTINGS = Settings("/var/lib/pykubelet", "/var/log/pods", PAUSE)
SANDBOX = Container("sb", "POD", "u", "p", "default", "sandbox", 0, "running", {}, ip="10.88.0.7")


def config(container: dict[str, Any], node: Node = NODE, **pod_spec: Any) -> ContainerConfig:
    """The config of ``container`` (a busybox container with these fields) in a pod with ``pod_spec``."""
    spec = {"name": "app", "image": "busybox:1.35", **container}
    pod = make_pod(containers=[spec], **pod_spec)
    return configs.container_config(
        pod, pod.spec["containers"][0], kind="container", restart_count=0, node=node,
        sandbox=SANDBOX, mounts=(), log_path="/l/0.log",
    )  # fmt: skip


# -- environment ---------------------------------------------------------------------------------------------


def test_env_is_expanded_in_order_and_command_and_args_see_it() -> None:
    env = [
        {"name": "A", "value": "one"},
        {"name": "B", "value": "$(A)-two"},
        {"name": "C", "value": "$(LATER) $$(A)"},
        {"name": "LATER", "value": "x"},
    ]
    result = config({"env": env, "command": ["echo", "$(B)"], "args": ["$(C)", "$(NOPE)"]})
    assert dict(result.env) == {"A": "one", "B": "one-two", "C": "$(LATER) $(A)", "LATER": "x"}
    assert result.command == ("echo", "one-two") and result.args == ("$(LATER) $(A)", "$(NOPE)")


def test_the_downward_api_gives_the_pods_identity_and_addresses() -> None:
    paths = [
        "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
        "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs", "metadata.labels['tier']",
        "metadata.labels['none']", "metadata.labels", "metadata.annotations['kubernetes.io/config.source']",
    ]  # fmt: skip
    env = [{"name": f"V{i}", "valueFrom": {"fieldRef": {"fieldPath": p}}} for i, p in enumerate(paths)]
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35", "env": env}])
    pod.metadata["labels"] = {"tier": "web", "app": "x"}
    values = list(configs.environment(pod, pod.spec["containers"][0], NODE, "10.88.0.7").values())
    assert values == [
        "web-node-a", "default", pod.uid, "node-a", "", "10.0.0.1", "10.0.0.1", "10.88.0.7",
        "10.88.0.7", "web", "", 'app="x"\ntier="web"', "file",
    ]  # fmt: skip


def test_a_host_network_pods_ip_is_the_nodes() -> None:
    env = [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    assert dict(config({"env": env}, hostNetwork=True).env) == {"IP": "10.0.0.1"}
    assert configs.pod_ip({"hostNetwork": True}, "10.0.0.1", None) == "10.0.0.1"
    assert configs.pod_ip({}, "10.0.0.1", SANDBOX) == "10.88.0.7"
    stopped = Container("sb", "POD", "u", "p", "default", "sandbox", 0, "exited", {}, ip="10.88.0.7")
    assert configs.pod_ip({}, "10.0.0.1", stopped) == "" and configs.pod_ip({}, "10.0.0.1", None) == ""


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ({"resource": "limits.cpu"}, "2"),  # 1500m rounded up to whole cores
        ({"resource": "limits.cpu", "divisor": "1m"}, "1500"),
        ({"resource": "requests.cpu", "divisor": "1m"}, "250"),
        ({"resource": "requests.cpu"}, "1"),  # 250m is one whole core, rounded up
        ({"resource": "limits.memory", "divisor": "1Mi"}, "128"),
        ({"resource": "requests.memory"}, str(64 * 2**20)),
        ({"resource": "limits.memory", "divisor": "0"}, str(128 * 2**20)),  # 0 means unset
    ],
)
def test_resource_field_refs_divide_and_round_up(ref: dict[str, str], expected: str) -> None:
    resources = {"limits": {"cpu": "1500m", "memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}}
    env = [{"name": "V", "valueFrom": {"resourceFieldRef": {"containerName": "app", **ref}}}]
    assert dict(config({"env": env, "resources": resources}).env) == {"V": expected}


def test_a_limit_that_is_not_set_is_the_nodes_capacity() -> None:
    env = [
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Gi"}}},
    ]
    assert dict(config({"env": env}).env) == {"CPU": str(NODE.cpu_count), "MEM": "8"}


# -- resources and the OOM score -----------------------------------------------------------------------------


def test_cpu_requests_become_shares_and_limits_a_cfs_quota() -> None:
    result = config({"resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "500m", "memory": "64Mi"}}})
    assert (result.cpu_shares, result.cpu_period, result.cpu_quota) == (256, 100_000, 50_000)
    assert result.memory_limit == 64 * 2**20


def test_tiny_cpu_values_are_raised_to_the_kernels_minimums() -> None:
    result = config({"resources": {"limits": {"cpu": "1m"}}})  # requests default to limits
    assert (result.cpu_shares, result.cpu_quota) == (configs.MIN_SHARES, configs.MIN_QUOTA)


def test_no_resources_means_minimum_shares_no_quota_no_memory_limit() -> None:
    result = config({})
    assert (result.cpu_shares, result.cpu_period, result.cpu_quota, result.memory_limit) == (
        2,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("resources", "qos_class", "score"),
    [
        ({}, qos.BEST_EFFORT, 1000),
        ({"limits": {"cpu": "1", "memory": "1Gi"}}, qos.GUARANTEED, -997),
        ({"requests": {"memory": "4Gi"}}, qos.BURSTABLE, 500),  # 1000 - 1000 * 4Gi / 8Gi
        ({"requests": {"memory": "8Gi"}}, qos.BURSTABLE, 2),  # never below 2
        ({"requests": {"cpu": "100m"}}, qos.BURSTABLE, 999),  # never above 999
    ],
)
def test_the_oom_score_follows_the_qos_class(resources: dict[str, Any], qos_class: str, score: int) -> None:
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35", "resources": resources}])
    assert qos.pod_qos(pod.spec) == qos_class
    assert config({"resources": resources}).oom_score_adj == score


def test_without_cap_sys_resource_negative_oom_scores_are_raised_to_zero() -> None:
    weak = Node("node-a", "10.0.0.1", 8 * 2**30, 2, can_lower_oom_score=False)
    assert config({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}, node=weak).oom_score_adj == 0
    pod = make_pod()
    sandbox = configs.sandbox_config(pod, node=weak, settings=SETTINGS, attempt=0, log_directory="")
    assert sandbox.oom_score_adj == 0
    assert (
        configs.sandbox_config(pod, node=NODE, settings=SETTINGS, attempt=0, log_directory="").oom_score_adj
        == -998
    )


def test_qos_counts_init_containers_and_needs_equal_requests_and_limits_for_guaranteed() -> None:
    limits = {"cpu": "1", "memory": "1Gi"}
    guaranteed = {"resources": {"limits": limits}}
    assert qos.pod_qos({"containers": [guaranteed], "initContainers": [{}]}) == qos.BURSTABLE
    unequal = {"resources": {"limits": limits, "requests": {"cpu": "500m", "memory": "1Gi"}}}
    assert qos.pod_qos({"containers": [unequal]}) == qos.BURSTABLE
    assert qos.pod_qos({"containers": [{"resources": {"requests": {"cpu": "0"}}}]}) == qos.BEST_EFFORT
    assert qos.oom_score_adj(qos.BURSTABLE, 1, 0) == 999  # unknown capacity: the highest burstable score


# -- security context ----------------------------------------------------------------------------------------


def test_the_containers_security_context_wins_over_the_pods() -> None:
    result = config(
        {"securityContext": {"runAsUser": 1000, "readOnlyRootFilesystem": True,
                             "allowPrivilegeEscalation": False,
                             "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}}},
        securityContext={"runAsUser": 0, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4, 5]},
    )  # fmt: skip
    assert result.user == "1000:3000"
    assert result.supplemental_groups == (2000, 4, 5)  # fsGroup first, as the kubelet adds it
    assert result.read_only_rootfs and result.no_new_privileges and not result.privileged
    assert config({}, securityContext={"runAsUser": 7}).user == "7"  # no group: the image's
    privileged = config({"securityContext": {"privileged": True}})
    assert privileged.privileged and not privileged.no_new_privileges
    assert (result.cap_add, result.cap_drop) == (("NET_ADMIN",), ("ALL",))


def test_no_security_context_leaves_the_images_user_and_defaults() -> None:
    result = config({})
    assert (result.user, result.supplemental_groups, result.privileged, result.no_new_privileges) == (
        "",
        (),
        False,
        False,
    )


def test_pod_namespaces_reach_the_container_config() -> None:
    assert config({}, hostPID=True).host_pid
    assert config({}, shareProcessNamespace=True).share_process_namespace
    assert config({}, hostNetwork=True).host_uts


@pytest.mark.parametrize(
    ("security", "image_user", "refusal"),
    [
        ({}, "", None),
        ({"runAsNonRoot": True, "runAsUser": 1000}, "", None),
        ({"runAsNonRoot": True, "runAsUser": 0}, "", "container's runAsUser breaks non-root policy"),
        ({"runAsNonRoot": True}, "", "container has runAsNonRoot and image will run as root"),
        ({"runAsNonRoot": True}, "0:0", "container has runAsNonRoot and image will run as root"),
        (
            {"runAsNonRoot": True},
            "nginx",
            "container has runAsNonRoot and image has non-numeric user (nginx)",
        ),
        ({"runAsNonRoot": True}, "101:101", None),
    ],
)
def test_run_as_non_root_is_verified_as_the_kubelet_does(
    security: dict[str, Any], image_user: str, refusal: str | None
) -> None:
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35", "securityContext": security}])
    spec = pod.spec["containers"][0]
    message = configs.verify_run_as_non_root(pod, spec, image_user)
    if refusal is None:
        assert message is None
    else:
        assert message is not None and message.startswith(refusal)
        assert message.endswith(f'(pod: "{pod.name}_default({pod.uid})", container: app)')
    assert configs.needs_image_user(pod.spec, spec) == (
        bool(security.get("runAsNonRoot")) and "runAsUser" not in security
    )


# -- the sandbox ---------------------------------------------------------------------------------------------


def test_host_ports_become_port_mappings_on_the_sandbox() -> None:
    ports = [
        {"containerPort": 80, "hostPort": 8080},
        {"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "127.0.0.1"},
        {"containerPort": 9090},  # no hostPort: not published
    ]
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35", "ports": ports}], hostname="www")
    sandbox = configs.sandbox_config(pod, node=NODE, settings=SETTINGS, attempt=2, log_directory="/logs/p")
    assert sandbox.port_mappings == (PortMapping(80, 8080), PortMapping(53, 5353, "UDP", "127.0.0.1"))
    assert (sandbox.hostname, sandbox.attempt, sandbox.image, sandbox.log_directory) == (
        "www",
        2,
        PAUSE,
        "/logs/p",
    )
    assert sandbox.labels[L.POD_UID] == pod.uid and not sandbox.host_network


def test_a_host_network_sandbox_has_no_hostname_and_no_port_mappings() -> None:
    pod = make_pod(
        containers=[
            {"name": "app", "image": "busybox:1.35", "ports": [{"containerPort": 80, "hostPort": 80}]}
        ],
        hostNetwork=True,
    )
    sandbox = configs.sandbox_config(pod, node=NODE, settings=SETTINGS, attempt=0, log_directory="")
    assert sandbox.host_network and sandbox.hostname == "" and sandbox.port_mappings == ()
    named = configs.sandbox_config(make_pod(), node=NODE, settings=SETTINGS, attempt=0, log_directory="")
    assert named.hostname == "web-node-a"  # the pod's name when spec.hostname is not set


# -- volumes -------------------------------------------------------------------------------------------------

UID = "0123456789abcdef0123456789abcdef"


def test_an_empty_dir_is_made_world_writable_under_the_pod_directory_and_setup_is_idempotent(
    tmp_path: Path,
) -> None:
    spec = {"volumes": [{"name": "cache", "emptyDir": {}}]}
    first = volumes.setup(str(tmp_path), UID, spec)
    path = tmp_path / "pods" / UID / "volumes" / "kubernetes.io~empty-dir" / "cache"
    assert first.paths == {"cache": str(path)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o777
    (path / "kept").write_text("x")
    assert volumes.setup(str(tmp_path), UID, spec) == first and (path / "kept").exists()


def test_host_path_types_are_checked(tmp_path: Path) -> None:
    directory, file = tmp_path / "d", tmp_path / "f"
    directory.mkdir()
    file.write_text("x")
    ok = [
        {"name": "a", "hostPath": {"path": str(directory), "type": "Directory"}},
        {"name": "b", "hostPath": {"path": str(file), "type": "File"}},
        {"name": "c", "hostPath": {"path": str(tmp_path / "anything")}},  # no type: no check
        {"name": "d", "hostPath": {"path": "/dev/null", "type": "CharDevice"}},
    ]
    assert volumes.setup(str(tmp_path), UID, {"volumes": ok}).paths == {
        "a": str(directory), "b": str(file), "c": str(tmp_path / "anything"), "d": "/dev/null",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [
        ("Directory", "f", "is not a directory (type Directory)"),
        ("File", "d", "is not a file (type File)"),
        ("Socket", "f", "is not a socket (type Socket)"),
        ("BlockDevice", "f", "is not a block device (type BlockDevice)"),
        ("Directory", "missing", "does not exist (type Directory wants a directory)"),
    ],
)
def test_a_host_path_of_the_wrong_type_names_the_field_and_the_reason(
    tmp_path: Path, kind: str, target: str, message: str
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    volume = {"name": "v", "hostPath": {"path": str(tmp_path / target), "type": kind}}
    with pytest.raises(volumes.VolumeError) as error:
        volumes.setup(str(tmp_path), UID, {"volumes": [{"name": "e", "emptyDir": {}}, volume]})
    assert str(error.value).startswith(f"spec.volumes[1].hostPath.path: Invalid value: '{tmp_path / target}'")
    assert str(error.value).endswith(message)


def test_a_socket_host_path_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        volume = {"name": "s", "hostPath": {"path": str(path), "type": "Socket"}}
        assert volumes.setup(str(tmp_path), UID, {"volumes": [volume]}).paths == {"s": str(path)}


def test_or_create_types_create_what_is_missing(tmp_path: Path) -> None:
    spec = {
        "volumes": [
            {"name": "d", "hostPath": {"path": str(tmp_path / "new" / "dir"), "type": "DirectoryOrCreate"}},
            {"name": "f", "hostPath": {"path": str(tmp_path / "new" / "file"), "type": "FileOrCreate"}},
        ]
    }
    volumes.setup(str(tmp_path), UID, spec)
    assert (tmp_path / "new" / "dir").is_dir() and (tmp_path / "new" / "file").is_file()
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "file").st_mode) & 0o644 == 0o644


def test_file_or_create_does_not_create_the_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "file"
    spec = {"volumes": [{"name": "f", "hostPath": {"path": str(path), "type": "FileOrCreate"}}]}
    with pytest.raises(volumes.VolumeError) as error:
        volumes.setup(str(tmp_path), UID, spec)
    assert "type FileOrCreate does not create the parent directory" in str(error.value)
    assert not (tmp_path / "no").exists()


def test_an_empty_dir_that_cannot_be_made_says_where_and_why(tmp_path: Path) -> None:
    (tmp_path / "pods").write_text("a file where the pods directory should be")
    with pytest.raises(volumes.VolumeError) as error:
        volumes.setup(str(tmp_path), UID, {"volumes": [{"name": "cache", "emptyDir": {}}]})
    assert str(error.value).startswith("spec.volumes[0].emptyDir: cannot create ")


def test_with_the_systemd_driver_a_sandbox_goes_in_the_kubelets_pod_slice() -> None:
    best_effort = make_pod(containers=[{"name": "app", "image": "busybox:1.35"}])
    limits = {"cpu": "100m", "memory": "64Mi"}
    resources = {"limits": limits, "requests": limits}
    guaranteed = make_pod(containers=[{"name": "app", "image": "busybox:1.35", "resources": resources}])
    systemd = Settings("/r", "/l", PAUSE, cgroup_driver="systemd")

    def parent(pod: Any, settings: Settings) -> str:
        config = configs.sandbox_config(pod, node=NODE, settings=settings, attempt=0, log_directory="/l/p")
        return config.cgroup_parent

    assert parent(best_effort, systemd) == f"kubepods-besteffort-pod{best_effort.uid}.slice"
    assert parent(guaranteed, systemd) == f"kubepods-pod{guaranteed.uid}.slice"
    assert parent(best_effort, SETTINGS) == ""  # cgroupfs: the runtime's own default


def test_the_cri_sandbox_config_carries_the_cgroup_parent() -> None:
    pod = make_pod(containers=[{"name": "app", "image": "busybox:1.35"}])
    settings = Settings("/r", "/l", PAUSE, cgroup_driver="systemd")
    config = configs.sandbox_config(pod, node=NODE, settings=settings, attempt=0, log_directory="/l/p")
    assert convert.sandbox_config(config).linux.cgroup_parent == config.cgroup_parent != ""


def test_a_cri_images_user_is_its_uid_or_its_name() -> None:
    assert convert.image(pb.Image(id="sha256:a", uid=pb.Int64Value(value=101))).user == "101"
    assert convert.image(pb.Image(id="sha256:b", username="nginx")).user == "nginx"
    assert convert.image(pb.Image(id="sha256:c")).user == ""  # no user in the image: root
