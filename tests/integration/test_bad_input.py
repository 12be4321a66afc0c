"""Bad input: each case gets one log line naming the file, the field path and the reason; the bad
pod does not run; a healthy pod beside it is not disturbed; the agent keeps running."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import Agent, wait_for

SENTINEL = """
apiVersion: v1
kind: Pod
metadata: {name: sentinel}
spec:
  containers:
    - {name: sleeper, image: "busybox:1.35", command: ["sleep", "3600"]}
"""


def pod_yaml(name: str, container: str = "", volumes: str = "", extra_spec: str = "") -> str:
    container = (
        container
        or """
    - name: app
      image: busybox:1.35
      command: ["sleep", "3600"]"""
    )
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:{extra_spec}
  containers:{container}
{volumes}"""


@pytest.fixture(scope="module")
def sentinel(shared_agent: Agent) -> str:
    shared_agent.write("sentinel.yaml", SENTINEL)
    sleepers = wait_for(
        "the sentinel pod",
        lambda: [
            c["Id"]
            for c in shared_agent.containers("sentinel")
            if c["Labels"]["io.kubernetes.container.name"] == "sleeper"
        ],
        timeout=60,
    )
    return sleepers[0]


def assert_undisturbed(agent: Agent, sentinel_id: str) -> None:
    assert agent.alive(), "the agent died"
    ids = [c["Id"] for c in agent.containers("sentinel")]
    assert sentinel_id in ids, "the sentinel pod's container was restarted or removed"


def wait_for_log(agent: Agent, filename: str, *fragments: str, timeout: float = 15) -> str:
    def line() -> str | None:
        for text in agent.log().splitlines():
            if filename in text and all(f in text for f in fragments):
                return text
        return None

    return wait_for(f"a log line naming {filename} with {fragments}", line, timeout=timeout)


MANIFEST_ERRORS = {
    "invalid-yaml.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n", ["line"]),
    "invalid.json": ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},', ["line"]),
    "empty.yaml": ("", ["empty"]),
    "list.yaml": ("apiVersion: v1\nkind: List\nitems: []\n", ["kind", "List"]),
    "deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n",
        ["Deployment"],
    ),
    "no-name.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  containers:\n"
        "    - {name: a, image: busybox:1.35}\n",
        ["metadata.name", "Required value"],
    ),
    "no-containers.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: nocontainers}\nspec: {}\n",
        ["spec.containers", "Required value"],
    ),
    "no-image.yaml": (
        pod_yaml("noimage", "\n    - name: app"),
        ["spec.containers[0].image", "Required value"],
    ),
    "duplicate-names.yaml": (
        pod_yaml("dups", "\n    - {name: app, image: busybox:1.35}\n    - {name: app, image: busybox:1.35}"),
        ["spec.containers[1].name", "Duplicate value", '\\"app\\"'],
    ),
    "bad-name.yaml": (pod_yaml("Web_Server"), ["metadata.name", "Invalid value", "RFC 1123"]),
    "bad-container-name.yaml": (
        pod_yaml("badcontainer", "\n    - {name: My_App, image: busybox:1.35}"),
        ["spec.containers[0].name", "Invalid value"],
    ),
    "configmap-volume.yaml": (
        pod_yaml("usescm", volumes="  volumes:\n    - name: cfg\n      configMap: {name: c}\n"),
        ["spec.volumes[0].configMap", "Forbidden"],
    ),
    "secret-volume.yaml": (
        pod_yaml("usessecret", volumes="  volumes:\n    - name: s\n      secret: {secretName: s}\n"),
        ["spec.volumes[0].secret", "Forbidden"],
    ),
    "pvc-volume.yaml": (
        pod_yaml(
            "usespvc", volumes="  volumes:\n    - name: d\n      persistentVolumeClaim: {claimName: d}\n"
        ),
        ["spec.volumes[0].persistentVolumeClaim", "Forbidden"],
    ),
    "unknown-mount.yaml": (
        pod_yaml(
            "badmount",
            "\n    - name: app\n      image: busybox:1.35\n"
            "      volumeMounts:\n        - {name: logs, mountPath: /logs}",
        ),
        ["spec.containers[0].volumeMounts[0].name", "Not found", '\\"logs\\"'],
    ),
}


@pytest.mark.parametrize("filename", sorted(MANIFEST_ERRORS))
def test_bad_manifest_is_reported_and_not_run(shared_agent: Agent, sentinel: str, filename: str) -> None:
    content, fragments = MANIFEST_ERRORS[filename]
    path = shared_agent.write(filename, content)
    try:
        wait_for_log(shared_agent, str(path), "Could not process manifest file", *fragments)
        assert_undisturbed(shared_agent, sentinel)
        names = {p["metadata"]["name"] for p in shared_agent.pods()}
        assert names == {f"sentinel-{shared_agent.node}"}
    finally:
        path.unlink()


def test_binary_junk(shared_agent: Agent, sentinel: str) -> None:
    path = shared_agent.write("junk.bin", os.urandom(4096) + b"\0")
    try:
        wait_for_log(shared_agent, str(path), "Could not process manifest file", "not a text file")
        assert_undisturbed(shared_agent, sentinel)
    finally:
        path.unlink()


def test_two_files_one_pod_name_the_first_in_sorted_order_wins(shared_agent: Agent, sentinel: str) -> None:
    """filterInvalidPods: the later file (``z-...`` sorts after ``sentinel.yaml``) is refused, with the
    kubelet's log line and FailedValidation event."""
    path = shared_agent.write("z-copy-of-sentinel.yaml", SENTINEL)
    try:
        wait_for_log(shared_agent, str(path), "duplicate pod name", "metadata.name", "Duplicate value")
        wait_for_log(shared_agent, "", "due to duplicate pod name", "from file", "ignoring")
        assert_undisturbed(shared_agent, sentinel)
        assert len(shared_agent.pods()) == 1
    finally:
        path.unlink()


def test_host_path_of_the_wrong_type(shared_agent: Agent, sentinel: str, tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    volumes = f"  volumes:\n    - name: h\n      hostPath: {{path: {a_file}, type: Directory}}\n"
    container = (
        "\n    - name: app\n      image: busybox:1.35\n      command: [sleep, '3600']\n"
        "      volumeMounts:\n        - {name: h, mountPath: /h}"
    )
    path = shared_agent.write("wrong-hostpath.yaml", pod_yaml("wronghostpath", container, volumes))
    try:
        wait_for_log(shared_agent, "wronghostpath", "spec.volumes[0].hostPath.path", "is not a directory")
        assert not shared_agent.containers("wronghostpath")
        pod = shared_agent.pod("wronghostpath")
        assert pod["status"]["phase"] == "Pending"
        waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
        assert waiting["reason"] == "ContainerCreating"
        assert "is not a directory" in waiting["message"]
        assert_undisturbed(shared_agent, sentinel)
    finally:
        path.unlink()
    wait_for("the refused pod to leave /pods", lambda: shared_agent.pod("wronghostpath") is None, timeout=15)


def test_image_that_does_not_exist(shared_agent: Agent, sentinel: str) -> None:
    container = "\n    - {name: app, image: 'pykubelet-test/does-not-exist:1.0'}"
    path = shared_agent.write("no-such-image.yaml", pod_yaml("nosuchimage", container))
    try:

        def waiting_reason() -> str | None:
            pod = shared_agent.pod("nosuchimage")
            state = pod["status"]["containerStatuses"][0]["state"] if pod else {}
            return state.get("waiting", {}).get("reason")

        wait_for("ErrImagePull", lambda: waiting_reason() == "ErrImagePull", timeout=30, interval=0.05)
        wait_for(
            "ImagePullBackOff", lambda: waiting_reason() == "ImagePullBackOff", timeout=30, interval=0.05
        )
        wait_for_log(shared_agent, "nosuchimage", "Failed to pull image", "does-not-exist")
        assert shared_agent.pod("nosuchimage")["status"]["phase"] == "Pending"
        assert [
            c
            for c in shared_agent.containers("nosuchimage")
            if c["Labels"]["io.kubernetes.container.name"] == "app"
        ] == []
        assert_undisturbed(shared_agent, sentinel)
    finally:
        path.unlink()


def test_command_not_found_in_the_image(shared_agent: Agent, sentinel: str) -> None:
    container = "\n    - {name: app, image: 'busybox:1.35', command: [no-such-command]}"
    path = shared_agent.write("no-such-command.yaml", pod_yaml("nocommand", container))
    try:

        def state() -> dict:
            pod = shared_agent.pod("nocommand")
            return pod["status"]["containerStatuses"][0] if pod else {}

        failed = wait_for(
            "RunContainerError or CrashLoopBackOff",
            lambda: (
                (s := state())
                and s["state"].get("waiting", {}).get("reason") in ("RunContainerError", "CrashLoopBackOff")
                and s
            ),
            timeout=30,
        )
        assert "no-such-command" in json.dumps(failed)
        wait_for_log(shared_agent, "nocommand", "no-such-command")
        assert_undisturbed(shared_agent, sentinel)
    finally:
        path.unlink()


def test_unreadable_file(agent_factory, docker_api) -> None:  # type: ignore[no-untyped-def]
    """Root reads any file; the agent runs without CAP_DAC_OVERRIDE here, as a locked-down unit might."""
    agent = agent_factory()
    path = agent.write("unreadable.yaml", pod_yaml("unreadable"))
    os.chown(path, 65534, 65534)
    path.chmod(0o000)
    agent.start(
        wrapper=[
            "setpriv",
            "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search",
            "--",
        ]
    )
    wait_for_log(agent, str(path), "cannot read the file", "Permission denied")
    assert agent.alive()
    assert agent.pods() == []


def test_subdirectory_symlinks_and_editor_files(shared_agent: Agent, sentinel: str) -> None:
    subdir = shared_agent.manifests / "more"
    subdir.mkdir()
    (subdir / "inner.yaml").write_text(pod_yaml("inner"))
    dangling = shared_agent.manifests / "dangling.yaml"
    dangling.symlink_to(shared_agent.manifests / "nowhere.yaml")
    swap = shared_agent.write(".sentinel.yaml.swp", b"\x00binary swap")
    vim_probe = shared_agent.write("4913", "")
    try:
        wait_for_log(shared_agent, str(subdir), "is a directory, not recursing")
        wait_for_log(shared_agent, str(dangling), "symlink", "does not exist")
        wait_for_log(shared_agent, str(vim_probe), "empty")
        assert not any(".swp" in line for line in shared_agent.log().splitlines()), (
            "dot files must be ignored"
        )
        vim_probe.unlink()
        assert {p["metadata"]["name"] for p in shared_agent.pods()} == {f"sentinel-{shared_agent.node}"}
        assert_undisturbed(shared_agent, sentinel)
    finally:
        subprocess.run(["rm", "-rf", str(subdir), str(dangling), str(swap)], check=False)


def test_backup_file_of_a_running_pod_is_a_duplicate(shared_agent: Agent, sentinel: str) -> None:
    """An editor's ``x~`` backup is a manifest to the kubelet (no extension filter): here a duplicate."""
    backup = shared_agent.write("sentinel.yaml~", SENTINEL)
    try:
        wait_for_log(shared_agent, str(backup), "Duplicate value")
        assert_undisturbed(shared_agent, sentinel)
    finally:
        backup.unlink()


def test_symlink_to_a_valid_manifest_is_followed(shared_agent: Agent, sentinel: str, tmp_path: Path) -> None:
    target = tmp_path / "linked.yaml"
    target.write_text(pod_yaml("linked"))
    link = shared_agent.manifests / "linked.yaml"
    link.symlink_to(target)
    try:
        wait_for("the linked pod to run", lambda: shared_agent.containers("linked"), timeout=60)
    finally:
        link.unlink()
    wait_for("the linked pod to go", lambda: not shared_agent.containers("linked", all=True), timeout=60)
    assert re.search("linked", shared_agent.log())
