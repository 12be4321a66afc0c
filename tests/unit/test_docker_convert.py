"""Docker <-> the runtime-neutral records (``runtime/docker/convert.py``), without an engine.

Configs are built from real pods by ``runtime/configs.py``; the create arguments they become are turned
into the ``docker inspect`` document an engine would return for the created container, and read back,
so a test shows that everything the agent reads after a restart (identity, restart count, spec hash,
sandbox id, kind) survives the trip through Docker's labels. The state cases are dockershim's
``ContainerStatus`` table; the event cases are what wakes a pod worker.
"""

from __future__ import annotations

from typing import Any

import pytest

from pykubelet.runtime import configs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container, ContainerConfig, Mount, PortMapping, SandboxConfig, Summary
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.docker import convert
from tests.unit.conftest import NODE, PAUSE, make_pod

SETTINGS = Settings("/var/lib/pykubelet", "/var/log/pods", PAUSE)
CREATED = "2026-01-02T03:04:05.123456789Z"
STARTED = "2026-01-02T03:04:06Z"
FINISHED = "2026-01-02T03:05:00.5Z"
ZERO = "0001-01-01T00:00:00Z"


def inspect(
    container_id: str,
    create: dict[str, Any],
    state: dict[str, Any],
    *,
    ip: str = "",
    image_id: str = "sha256:1",
) -> dict[str, Any]:
    """The ``docker inspect`` document of a container made from ``create`` (the SDK's create arguments)."""
    return {
        "Id": container_id,
        "Name": "/" + create["name"],
        "Created": CREATED,
        "Image": image_id,
        "LogPath": f"/var/lib/docker/containers/{container_id}/{container_id}-json.log",
        "Config": {"Image": create["image"], "Labels": create["labels"]},
        "State": {"StartedAt": ZERO, "FinishedAt": ZERO, "ExitCode": 0, "Pid": 0, **state},
        "NetworkSettings": {"IPAddress": ip},
    }


def sandbox_of(pod_spec: dict[str, Any] | None = None) -> tuple[SandboxConfig, Container]:
    """A pod's sandbox config and the record an engine reports for it once it runs."""
    pod = make_pod(**(pod_spec or {}))
    config = configs.sandbox_config(pod, node=NODE, settings=SETTINGS, attempt=1, log_directory="/l")
    _, create = convert.sandbox_create(config)
    info = inspect("s" * 64, create, {"Running": True, "StartedAt": STARTED, "Pid": 42}, ip="172.17.0.5")
    record = convert.from_inspect(info)
    assert record is not None
    return config, record


def test_a_sandbox_round_trips_through_docker_labels() -> None:
    config, record = sandbox_of()
    assert (record.kind, record.name, record.state, record.attempt) == ("sandbox", "POD", "running", 1)
    assert record.pod_uid == config.uid and record.pod_name == config.name and record.namespace == "default"
    assert record.ip == "172.17.0.5" and record.pid == 42 and record.runtime == "docker"
    assert record.labels == {**config.labels, L.CONTAINER_NAME: "POD", convert.DOCKER_TYPE: "podsandbox"}
    assert record.annotations == config.annotations
    assert record.created_at is not None and record.created_at.microsecond == 123456
    assert record.started_at is not None and record.finished_at is None
    assert record.image == PAUSE and record.image_id == "sha256:1"
    assert record.log_path.endswith("-json.log")


@pytest.mark.parametrize("kind", ["container", "init"])
def test_a_container_round_trips_with_its_restart_count_hash_and_sandbox(kind: str) -> None:
    """Docker keeps no kind for a container (dockershim wrote none): the pod spec says which is init."""
    pod = make_pod(
        containers=[{"name": "app", "image": "busybox:1.35", "command": ["sh"], "args": ["-c", "x"]}]
    )
    _, sandbox = sandbox_of()
    config = configs.container_config(
        pod,
        pod.spec["containers"][0],
        kind=kind,
        restart_count=3,
        node=NODE,
        sandbox=sandbox,
        mounts=(),
        log_path="/var/log/pods/p/app/3.log",
    )
    _, create = convert.container_create(sandbox, config)
    record = convert.from_inspect(inspect("c" * 64, create, {"Running": True, "StartedAt": STARTED}))
    assert record is not None
    assert (record.name, record.kind, record.attempt, record.state) == ("app", "container", 3, "running")
    assert record.hash == config.annotations[L.CONTAINER_HASH] == L.container_hash(pod.spec["containers"][0])
    assert record.sandbox_id == sandbox.id
    assert record.annotations == config.annotations
    assert {k: record.labels[k] for k in config.labels} == config.labels
    assert record.container_id == "docker://" + "c" * 64


def test_an_init_kind_annotation_written_by_an_older_agent_is_still_read() -> None:
    _, create = convert.sandbox_create(sandbox_of()[0])
    create["labels"] = {
        **create["labels"],
        convert.DOCKER_TYPE: "container",
        "annotation." + L.CONTAINER_KIND: "init",
    }
    create["name"] = create["name"].replace("k8s_POD_", "k8s_setup_")
    record = convert.from_inspect(inspect("c" * 64, create, {}))
    assert record is not None and record.kind == "init"


def test_a_restart_count_annotation_that_is_not_a_number_falls_back_to_the_name() -> None:
    _, create = convert.sandbox_create(sandbox_of()[0])
    create["labels"] = {
        **create["labels"],
        convert.DOCKER_TYPE: "container",
        "annotation." + L.RESTART_COUNT: "x",
    }
    create["name"] = create["name"].replace("k8s_POD_", "k8s_app_").rsplit("_", 1)[0] + "_7"
    record = convert.from_inspect(inspect("c" * 64, create, {}))
    assert record is not None and record.attempt == 7 and record.kind == "container"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"Running": True, "StartedAt": STARTED}, ("running", "", 0, "")),
        ({"StartedAt": STARTED, "FinishedAt": FINISHED}, ("exited", "Completed", 0, "")),
        ({"StartedAt": STARTED, "FinishedAt": FINISHED, "ExitCode": 2}, ("exited", "Error", 2, "")),
        ({"StartedAt": STARTED, "FinishedAt": FINISHED, "ExitCode": 137, "OOMKilled": True},
         ("exited", "OOMKilled", 137, "")),
        ({"ExitCode": 127, "Error": "no such file"}, ("exited", "ContainerCannotRun", 127, "no such file")),
        ({}, ("created", "", 0, "")),
    ],
    ids=["running", "completed", "error", "oom-killed", "cannot-run", "created"],
)  # fmt: skip
def test_docker_states_become_cri_states_and_reasons(
    state: dict[str, Any], expected: tuple[str, str, int, str]
) -> None:
    _, create = convert.sandbox_create(sandbox_of()[0])
    record = convert.from_inspect(inspect("x" * 64, create, state))
    assert record is not None
    assert (record.state, record.reason, record.exit_code, record.message) == expected
    if expected[1] == "ContainerCannotRun":  # never started: started and finished are its creation
        assert record.started_at == record.finished_at == record.created_at


def test_containers_that_are_not_ours_are_none() -> None:
    _, create = convert.sandbox_create(sandbox_of()[0])
    foreign_name = inspect("x" * 64, create, {})
    foreign_name["Name"] = "/postgres"
    assert convert.from_inspect(foreign_name) is None
    unlabelled = inspect("x" * 64, {**create, "labels": {"app": "web"}}, {})
    assert convert.from_inspect(unlabelled) is None
    assert convert.summary({"Id": "x", "Labels": {"app": "web"}, "State": "running"}) is None
    assert convert.summary({"Id": "x", "Labels": None}) is None


def test_a_listing_entry_of_ours_is_a_summary() -> None:
    listed = {
        "Id": "abc",
        "State": "exited",
        "Labels": {L.POD_UID: "u1", L.POD_NAME: "web-node-a", L.POD_NAMESPACE: "default"},
    }
    assert convert.summary(listed) == Summary("abc", "u1", "web-node-a", "default", "exited")


@pytest.mark.parametrize("action", ["die", "destroy", "oom"])
def test_events_a_worker_did_not_cause_wake_its_pod(action: str) -> None:
    raw = {"Action": action, "Actor": {"ID": "c1", "Attributes": {L.POD_UID: "u1", "name": "k8s_app"}}}
    event = convert.event(raw)
    assert event is not None
    assert (event.pod_uid, event.container_id, event.action) == ("u1", "c1", action)


def test_the_workers_own_doings_and_foreign_containers_wake_nobody() -> None:
    ours = {"ID": "c1", "Attributes": {L.POD_UID: "u1"}}
    assert convert.event({"Action": "create", "Actor": ours}) is None
    assert convert.event({"Action": "start", "Actor": ours}) is None
    assert convert.event({"Action": "kill", "Actor": ours}) is None  # a "die" follows if it worked
    assert convert.event({"Action": "stop", "Actor": ours}) is None  # after its "die"
    assert convert.event({"Action": "exec_start: sh -c true", "Actor": ours}) is None
    assert convert.event({"Action": "die", "Actor": {"ID": "c2", "Attributes": {"name": "postgres"}}}) is None
    assert convert.event({"Action": "die"}) is None


def test_an_image_record_keeps_tags_digests_and_size() -> None:
    info = {"Id": "sha256:abc", "RepoTags": ["nginx:1.22"], "RepoDigests": None, "Size": 1234}
    image = convert.image(info)
    assert (image.id, image.repo_tags, image.repo_digests, image.size) == (
        "sha256:abc",
        ("nginx:1.22",),
        (),
        1234,
    )


def test_a_sandbox_publishes_host_ports_and_keeps_its_dns() -> None:
    config = SandboxConfig(
        name="web-node-a",
        namespace="default",
        uid="u1",
        attempt=0,
        image=PAUSE,
        labels={L.POD_UID: "u1"},
        annotations={"a": "1"},
        hostname="web",
        port_mappings=(
            PortMapping(80, 8080),
            PortMapping(80, 8081, host_ip="127.0.0.1"),
            PortMapping(53, 5353, protocol="UDP"),
        ),
        dns_servers=("10.0.0.10",),
        dns_searches=("svc.local",),
        oom_score_adj=-998,
    )
    host, create = convert.sandbox_create(config)
    assert host["port_bindings"] == {
        "80/tcp": [("0.0.0.0", 8080), ("127.0.0.1", 8081)],
        "53/udp": [("0.0.0.0", 5353)],
    }
    assert create["ports"] == [(80, "tcp"), (80, "tcp"), (53, "udp")]
    assert (host["network_mode"], host["ipc_mode"], host["pid_mode"]) == ("default", "shareable", None)
    assert host["dns"] == ["10.0.0.10"] and host["dns_search"] == ["svc.local"]
    assert host["oom_score_adj"] == -998
    assert create["hostname"] == "web" and create["labels"]["annotation.a"] == "1"


def test_a_host_network_sandbox_shares_the_hosts_namespaces_and_leaves_docker_defaults_alone() -> None:
    config = SandboxConfig(
        "p", "default", "u1", 0, PAUSE, {}, {}, host_network=True, host_ipc=True, host_pid=True
    )
    host, create = convert.sandbox_create(config)
    assert (host["network_mode"], host["ipc_mode"], host["pid_mode"]) == ("host", "host", "host")
    assert host["port_bindings"] is None and create["ports"] is None
    assert host["dns"] is None and host["dns_search"] is None
    assert create["hostname"] is None


def _container_config(**fields: Any) -> ContainerConfig:
    labels = {L.POD_UID: "u1", L.POD_NAME: "web-node-a", L.POD_NAMESPACE: "default", L.CONTAINER_NAME: "app"}
    return ContainerConfig(name="app", attempt=0, kind="container", image="busybox:1.35", labels=labels,
                           annotations={}, **fields)  # fmt: skip


def test_a_container_joins_its_sandbox_and_gets_its_resources_and_security() -> None:
    sandbox = Container("sb", "POD", "u1", "web-node-a", "default", "sandbox", 0, "running", {})
    config = _container_config(
        command=("sh",),
        args=(),
        env=(("A", "1"), ("B", "2")),
        working_dir="/w",
        mounts=(Mount("/h/data", "/data"), Mount("/h/conf", "/etc/app", readonly=True)),
        user="1000:1000",
        supplemental_groups=(5, 6),
        privileged=True,
        read_only_rootfs=True,
        no_new_privileges=True,
        cap_add=("NET_ADMIN",),
        cap_drop=("ALL",),
        share_process_namespace=True,
        cpu_shares=512,
        cpu_period=100_000,
        cpu_quota=50_000,
        memory_limit=64 * 2**20,
        oom_score_adj=1000,
        tty=True,
        stdin=True,
        log_path="/var/log/pods/p/app/0.log",
    )
    host, create = convert.container_create(sandbox, config)
    assert host["network_mode"] == host["ipc_mode"] == host["pid_mode"] == "container:sb"
    assert host["uts_mode"] is None
    assert host["binds"] == ["/h/data:/data:rw", "/h/conf:/etc/app:ro"]
    assert (host["cpu_shares"], host["cpu_period"], host["cpu_quota"]) == (512, 100_000, 50_000)
    assert host["mem_limit"] == host["memswap_limit"] == 64 * 2**20  # no swap beyond the limit
    assert host["privileged"] and host["read_only"] and host["security_opt"] == ["no-new-privileges"]
    assert host["cap_add"] == ["NET_ADMIN"] and host["cap_drop"] == ["ALL"]
    assert host["group_add"] == ["5", "6"] and host["oom_score_adj"] == 1000
    assert create["name"] == "k8s_app_web-node-a_default_u1_0"
    assert create["entrypoint"] == ["sh"] and create["command"] == []  # command without args: no CMD
    assert create["environment"] == {"A": "1", "B": "2"}
    assert (create["working_dir"], create["user"], create["tty"], create["stdin_open"]) == (
        "/w",
        "1000:1000",
        True,
        True,
    )
    assert create["labels"][convert.LOG_PATH] == "/var/log/pods/p/app/0.log"


def test_a_container_without_command_keeps_the_images_entrypoint_and_cmd() -> None:
    sandbox = Container("sb", "POD", "u1", "web-node-a", "default", "sandbox", 0, "running", {})
    host, create = convert.container_create(sandbox, _container_config(host_pid=True, host_uts=True))
    assert create["entrypoint"] is None and create["command"] is None
    assert host["pid_mode"] == "host" and host["uts_mode"] == "host"
    assert host["security_opt"] is None and host["cap_add"] is None and host["group_add"] is None
    assert create["working_dir"] is None and create["user"] is None
    _, with_args = convert.container_create(sandbox, _container_config(args=("-c", "x")))
    assert with_args["entrypoint"] is None and with_args["command"] == ["-c", "x"]
