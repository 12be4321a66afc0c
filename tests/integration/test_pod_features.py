"""Pod features beyond the walkthrough: volumes of every kind, host networking, pull policies,
preStop hooks and grace periods, renames, and a manifest directory that appears late."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.integration.conftest import Agent, wait_for


def running(agent: Agent, pod: str) -> bool:
    return agent.phase(pod) == "Running"


def test_volumes_memory_empty_dir_host_path_sub_path_read_only(agent: Agent, tmp_path: Path) -> None:
    host_dir = tmp_path / "created-by-kubelet"
    agent.write(
        "vols.yaml",
        f"""apiVersion: v1
kind: Pod
metadata: {{name: vols}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
      volumeMounts:
        - {{name: mem, mountPath: /mem}}
        - {{name: host, mountPath: /host}}
        - {{name: host, mountPath: /host-ro, readOnly: true}}
        - {{name: scratch, mountPath: /sub, subPath: nested/dir}}
  volumes:
    - name: mem
      emptyDir: {{medium: Memory, sizeLimit: 1Mi}}
    - name: host
      hostPath: {{path: {host_dir}, type: DirectoryOrCreate}}
    - name: scratch
      emptyDir: {{}}
""",
    )
    wait_for("the pod Running", lambda: running(agent, "vols"), timeout=60)
    app = agent.inspect("vols", "app")["Id"]

    def sh(command: str) -> tuple[int, str]:
        exec_id = agent.api.exec_create(app, ["sh", "-c", command])["Id"]
        output = agent.api.exec_start(exec_id).decode()
        return agent.api.exec_inspect(exec_id)["ExitCode"], output

    assert "tmpfs" in sh("grep ' /mem ' /proc/mounts")[1]
    code, _ = sh("dd if=/dev/zero of=/mem/big bs=1024 count=2048")
    assert code != 0, "a Memory emptyDir is limited to its sizeLimit"
    assert host_dir.is_dir() and oct(host_dir.stat().st_mode & 0o777) == "0o755"
    assert sh("echo hi > /host/x")[0] == 0
    assert (host_dir / "x").read_text() == "hi\n"
    assert sh("echo no > /host-ro/y")[0] != 0, "readOnly mounts are read-only"
    assert sh("echo sub > /sub/file")[0] == 0
    uid = agent.pod("vols")["metadata"]["uid"]
    scratch = agent.root / "pods" / uid / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    assert (scratch / "nested" / "dir" / "file").read_text() == "sub\n"

    agent.remove("vols.yaml")
    wait_for(
        "the pod dir to go (tmpfs unmounted first)",
        lambda: not (agent.root / "pods" / uid).exists(),
        timeout=30,
    )
    assert host_dir.exists() and (host_dir / "x").exists(), "hostPath data is the host's: never deleted"


def test_host_network(agent: Agent) -> None:
    agent.write(
        "hostnet.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
""",
    )
    wait_for("the pod Running", lambda: running(agent, "hostnet"), timeout=60)
    assert agent.inspect("hostnet", "POD")["HostConfig"]["NetworkMode"] == "host"
    assert agent.inspect("hostnet", "app")["HostConfig"]["UTSMode"] == "host"
    status = agent.pod("hostnet")["status"]
    # the node's address (no hostIP field: the kubelet sets it only with an API client)
    assert status["podIP"] == status["podIPs"][0]["ip"] and "hostIP" not in status
    assert status["podIP"] != agent.inspect("hostnet", "POD")["NetworkSettings"].get("IPAddress", "")


def test_pull_policy_never_with_a_missing_image(agent: Agent) -> None:
    agent.write(
        "never.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: neverpull}
spec:
  containers:
    - {name: app, image: "pykubelet-test/absent:2.0", imagePullPolicy: Never}
""",
    )

    def waiting() -> dict:
        pod = agent.pod("neverpull")
        return pod["status"]["containerStatuses"][0]["state"].get("waiting", {}) if pod else {}

    state = wait_for(
        "ErrImageNeverPull", lambda: waiting().get("reason") == "ErrImageNeverPull" and waiting(), timeout=30
    )
    assert (
        state["message"]
        == 'Container image "pykubelet-test/absent:2.0" is not present with pull policy of Never'
    )
    assert "Pulling image" not in agent.log(), "Never must not try to pull"


def test_pre_stop_hook_runs_and_grace_period_bounds_the_stop(agent: Agent, tmp_path: Path) -> None:
    marker_dir = tmp_path / "hook"
    agent.write(
        "graceful.yaml",
        f"""apiVersion: v1
kind: Pod
metadata: {{name: graceful}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
    - name: app
      image: busybox:1.35
      command: [sh, -c, "trap '' TERM; while true; do sleep 1; done"]
      lifecycle:
        preStop:
          exec: {{command: [sh, -c, "echo pre-stop ran > /hook/marker"]}}
      volumeMounts: [{{name: hook, mountPath: /hook}}]
  volumes:
    - name: hook
      hostPath: {{path: {marker_dir}, type: DirectoryOrCreate}}
""",
    )
    wait_for("the pod Running", lambda: running(agent, "graceful"), timeout=60)
    started = time.monotonic()
    agent.remove("graceful.yaml")
    wait_for("the containers to go", lambda: not agent.containers("graceful", all=True), timeout=30)
    took = time.monotonic() - started
    assert (marker_dir / "marker").read_text() == "pre-stop ran\n"
    # It ignores SIGTERM, so only SIGKILL after the 3 s grace period ends it: not sooner.
    assert took >= 2.0  # grace 3 s minus the hook's time, but never under the 2 s minimum
    assert "Stopping container app" in agent.log()


def test_renaming_to_a_dot_name_stops_the_pod(agent: Agent) -> None:
    agent.write(
        "hideme.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: hideme}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
""",
    )
    wait_for("the pod Running", lambda: running(agent, "hideme"), timeout=60)
    os.rename(agent.manifests / "hideme.yaml", agent.manifests / ".hideme.yaml")
    wait_for("the pod to go", lambda: not agent.containers("hideme", all=True), timeout=30)
    assert agent.pods() == []


LATE = """apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
"""


def test_manifest_directory_missing_at_start_then_created(agent_factory) -> None:  # type: ignore[no-untyped-def]
    agent = agent_factory()
    shutil.rmtree(agent.manifests)
    agent.start()
    wait_for("the missing path to be reported", lambda: "path does not exist" in agent.log(), timeout=10)
    agent.manifests.mkdir()
    agent.write(
        "late.yaml",
        LATE,
    )
    wait_for("the pod to run once the directory exists", lambda: running(agent, "late"), timeout=60)
    # Delete the whole directory: the pod goes; recreate it: the pod comes back as the same pod.
    uid = agent.pod("late")["metadata"]["uid"]
    shutil.rmtree(agent.manifests)
    wait_for("the pod to go with its directory", lambda: not agent.containers("late", all=True), timeout=30)
    agent.manifests.mkdir()
    agent.write(
        "late.yaml",
        LATE,
    )
    wait_for("the pod back", lambda: running(agent, "late"), timeout=60)
    assert agent.pod("late")["metadata"]["uid"] == uid, "same content, same file, same node: same uid"


def test_single_file_as_manifest_path_and_config_file(agent_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "only.yaml"
    manifest.write_text("""apiVersion: v1
kind: Pod
metadata: {name: only}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
""")
    config = tmp_path / "config.yaml"
    config.write_text(f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: {manifest}
fileCheckFrequency: 1s
podInfraContainerImage: registry.k8s.io/pause:3.10
""")
    agent = agent_factory(["--config", str(config)])
    agent.manifest_flag = False
    agent.start()
    wait_for("the pod from the one file", lambda: running(agent, "only"), timeout=60)
    manifest.unlink()
    wait_for("the pod to go", lambda: not agent.containers("only", all=True), timeout=30)


def test_disk_empty_dir_over_its_size_limit_on_a_static_pod_is_reported_not_evicted(agent: Agent) -> None:
    """evictPod refuses critical pods, and every static pod is critical (kubetypes.IsCriticalPod)."""
    agent.write(
        "hog.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: [sh, -c, "dd if=/dev/zero of=/scratch/big bs=1024 count=3072; sleep 3600"]
      volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
    - name: scratch
      emptyDir: {sizeLimit: 1Mi}
""",
    )

    line = wait_for(
        "the kubelet's refusal to evict",
        lambda: next(
            (ln for ln in agent.log().splitlines() if "cannot evict a critical pod" in ln and "hog" in ln),
            None,
        ),
        timeout=60,
        interval=0.5,
    )
    assert 'Usage of EmptyDir volume \\"scratch\\" exceeds the limit \\"1Mi\\".' in line
    assert running(agent, "hog"), "the static pod keeps running"
    status = agent.pod("hog")["status"]
    assert status["phase"] == "Running" and "reason" not in status
    assert not any(e["reason"] == "Evicted" for e in agent.get("/events")["items"])
