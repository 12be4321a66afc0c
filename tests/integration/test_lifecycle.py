"""How pods live: edits, identical rewrites, restarts with back-off, init containers, ports, env,
and adoption of running pods by a restarted agent."""

from __future__ import annotations

import signal
import time
import urllib.request

from tests.integration.conftest import Agent, free_port, wait_for

SLEEPER = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: ["sleep", "{seconds}"]
"""


def ids(agent: Agent, pod: str) -> set[str]:
    return {c["Id"] for c in agent.containers(pod)}


def uid_of(agent: Agent, pod: str) -> str:
    return agent.containers(pod)[0]["Labels"]["io.kubernetes.pod.uid"]


def test_identical_rewrite_changes_nothing_and_an_edit_replaces_the_pod(agent: Agent) -> None:
    agent.write("sleeper.yaml", SLEEPER.format(name="sleeper", seconds=3600))
    before = wait_for(
        "the pod", lambda: len(ids(agent, "sleeper")) == 2 and ids(agent, "sleeper"), timeout=60
    )
    uid = uid_of(agent, "sleeper")

    agent.write("sleeper.yaml", SLEEPER.format(name="sleeper", seconds=3600))  # same bytes, new mtime
    (agent.manifests / "sleeper.yaml").touch()
    time.sleep(3)  # longer than --file-check-frequency: both inotify and a relist have seen it
    assert ids(agent, "sleeper") == before

    agent.write("sleeper.yaml", SLEEPER.format(name="sleeper", seconds=7200))
    wait_for(
        "a new pod uid",
        lambda: (
            agent.containers("sleeper")
            and uid_of(agent, "sleeper") != uid
            and len(agent.containers("sleeper")) == 2
        ),
        timeout=60,
    )
    assert not (ids(agent, "sleeper") & before)
    assert not agent.containers("sleeper", all=True) or all(
        c["Labels"]["io.kubernetes.pod.uid"] != uid for c in agent.containers("sleeper", all=True)
    )
    new_uid = uid_of(agent, "sleeper")
    app = agent.inspect("sleeper", "app")
    assert app["Config"]["Cmd"] == ["sleep", "7200"] or app["Config"]["Entrypoint"] == ["sleep", "7200"]
    assert agent.pod("sleeper")["metadata"]["uid"] == new_uid
    assert not (agent.root / "pods" / uid).exists()


def test_an_edit_that_breaks_the_file_drops_the_pod_at_the_next_relist(agent: Agent) -> None:
    agent.write("web.yaml", SLEEPER.format(name="web", seconds=3600))
    running = wait_for("the pod", lambda: len(ids(agent, "web")) == 2 and ids(agent, "web"), timeout=60)
    agent.write("web.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: oops\n")
    wait_for(
        "the error in the log",
        lambda: "spec.containers" in agent.log() and "keeps running" in agent.log(),
        timeout=10,
    )
    # The relist (every 2 s here) drops the pod, as the kubelet does.
    wait_for("the pod to be stopped", lambda: not agent.containers("web", all=True), timeout=30)
    # Fixing the file brings it back as a new pod.
    agent.write("web.yaml", SLEEPER.format(name="web", seconds=3600))
    wait_for("the pod back", lambda: len(ids(agent, "web")) == 2, timeout=60)
    assert not (ids(agent, "web") & running)


def test_crash_loop_backs_off_and_counts_restarts(agent: Agent) -> None:
    agent.write(
        "crash.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
    - {name: fails, image: "busybox:1.35", command: [sh, -c, "echo boom; exit 3"]}
""",
    )

    def status() -> dict:
        pod = agent.pod("crash")
        return pod["status"]["containerStatuses"][0] if pod and pod["status"].get("containerStatuses") else {}

    looping = wait_for(
        "CrashLoopBackOff",
        lambda: (s := status()).get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff" and s,
        timeout=60,
        interval=0.2,
    )
    assert looping["lastState"]["terminated"]["exitCode"] == 3
    assert looping["lastState"]["terminated"]["reason"] == "Error"
    assert "back-off 10s restarting failed container=fails" in looping["state"]["waiting"]["message"]
    assert looping["restartCount"] >= 1
    assert agent.pod("crash")["status"]["phase"] == "Running"  # the kubelet's phase for a looping Always pod

    # The restarts are spaced by the back-off: restart 2 comes >= 10 s after restart 1's exit.
    wait_for("restartCount 2", lambda: status().get("restartCount", 0) >= 2, timeout=40, interval=0.5)
    instances = sorted(agent.containers("crash", all=True), key=lambda c: c["Created"])
    apps = [
        agent.api.inspect_container(c["Id"])
        for c in instances
        if c["Labels"]["io.kubernetes.container.name"] == "fails"
    ]
    names = [a["Name"] for a in apps]
    assert any(n.endswith("_2") for n in names)
    assert len(apps) <= 2, "old dead instances are garbage-collected, keeping the last one for lastState"
    events = agent.log()
    assert "Back-off restarting failed container fails" in events


def test_restart_policy_never_and_on_failure(agent: Agent) -> None:
    agent.write(
        "once.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
    - {name: job, image: "busybox:1.35", command: [sh, -c, "echo done"]}
""",
    )
    agent.write(
        "onfail.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: onfail}
spec:
  restartPolicy: OnFailure
  containers:
    - {name: job, image: "busybox:1.35", command: [sh, -c, "exit 1"]}
""",
    )
    wait_for("the Never pod Succeeded", lambda: agent.phase("once") == "Succeeded", timeout=60)
    done = agent.pod("once")["status"]["containerStatuses"][0]
    assert done["state"]["terminated"]["reason"] == "Completed"
    assert done["restartCount"] == 0
    wait_for(
        "a finished pod's sandbox to be stopped",
        lambda: (
            [
                c["State"]
                for c in agent.containers("once", all=True)
                if c["Labels"]["io.kubernetes.docker.type"] == "podsandbox"
            ]
            == ["exited"]
        ),
        timeout=20,
    )
    wait_for(
        "the OnFailure pod restarted",
        lambda: agent.pod("onfail")["status"]["containerStatuses"][0]["restartCount"] >= 1,
        timeout=60,
    )
    assert agent.phase("onfail") == "Running"


def test_init_containers_run_in_order_before_the_app(agent: Agent) -> None:
    agent.write(
        "init.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  initContainers:
    - {name: first, image: "busybox:1.35", command: [sh, -c, "echo one >> /work/order"],
       volumeMounts: [{name: w, mountPath: /work}]}
    - {name: second, image: "busybox:1.35", command: [sh, -c, "sleep 1; echo two >> /work/order"],
       volumeMounts: [{name: w, mountPath: /work}]}
  containers:
    - {name: app, image: "busybox:1.35", command: [sh, -c, "echo app >> /work/order; sleep 3600"],
       volumeMounts: [{name: w, mountPath: /work}]}
  volumes:
    - {name: w, emptyDir: {}}
""",
    )
    wait_for("the pod Running", lambda: agent.phase("init") == "Running", timeout=60)
    uid = agent.pod("init")["metadata"]["uid"]
    order = agent.root / "pods" / uid / "volumes" / "kubernetes.io~empty-dir" / "w" / "order"
    wait_for("the app's line", lambda: "app" in order.read_text(), timeout=10)
    assert order.read_text().split() == ["one", "two", "app"]
    statuses = agent.pod("init")["status"]["initContainerStatuses"]
    assert [s["name"] for s in statuses] == ["first", "second"]
    assert all(s["state"]["terminated"]["reason"] == "Completed" and s["ready"] for s in statuses)
    conditions = {c["type"]: c["status"] for c in agent.pod("init")["status"]["conditions"]}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }


def test_failing_init_container_holds_the_app(agent: Agent) -> None:
    agent.write(
        "initfail.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: initfail}
spec:
  initContainers:
    - {name: check, image: "busybox:1.35", command: [sh, -c, "exit 1"]}
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
""",
    )
    wait_for(
        "the init container to have failed",
        lambda: agent.pod("initfail")["status"]["initContainerStatuses"][0]["restartCount"] >= 1,
        timeout=60,
    )
    pod = agent.pod("initfail")
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"
    assert not [
        c
        for c in agent.containers("initfail", all=True)
        if c["Labels"]["io.kubernetes.container.name"] == "app"
    ]


def test_host_port_and_downward_env(agent: Agent) -> None:
    port = free_port()
    agent.write(
        "ports.yaml",
        f"""apiVersion: v1
kind: Pod
metadata:
  name: ports
  labels: {{app: demo}}
spec:
  containers:
    - name: web
      image: busybox:1.35
      command:
        - sh
        - -c
        - echo "$(POD_NAME) $(POD_IP) $(NODE) $(GREETING)" > /www/index.html; exec httpd -f -p 80 -h /www
      ports: [{{containerPort: 80, hostPort: {port}}}]
      env:
        - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
        - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
        - {{name: NODE, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}
        - {{name: WHO, value: world}}
        - {{name: GREETING, value: "hello-$(WHO)"}}
      volumeMounts: [{{name: www, mountPath: /www}}]
  volumes: [{{name: www, emptyDir: {{}}}}]
""",
    )
    wait_for("the pod Running", lambda: agent.phase("ports") == "Running", timeout=60)
    infra = agent.inspect("ports", "POD")
    assert infra["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] == str(port)

    def fetch() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as r:
            return r.read().decode()

    page = wait_for("the page through the hostPort", fetch, timeout=20)
    pod_ip = infra["NetworkSettings"]["IPAddress"]
    assert page.split() == [f"ports-{agent.node}", pod_ip, agent.node, "hello-world"]


def test_resources_and_security_context_reach_docker(agent: Agent) -> None:
    agent.write(
        "limits.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: limits}
spec:
  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
      workingDir: /tmp
      resources:
        requests: {cpu: 250m, memory: 32Mi}
        limits: {cpu: 500m, memory: 64Mi}
      securityContext:
        runAsUser: 65534
        runAsGroup: 65534
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {drop: [NET_RAW], add: [SYS_TIME]}
""",
    )
    wait_for("the pod Running", lambda: agent.phase("limits") == "Running", timeout=60)
    host = agent.inspect("limits", "app")["HostConfig"]
    assert host["CpuShares"] == 256
    assert (host["CpuQuota"], host["CpuPeriod"]) == (50000, 100000)
    assert host["Memory"] == host["MemorySwap"] == 64 * 1024 * 1024
    assert host["ReadonlyRootfs"] is True
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert "NET_RAW" in host["CapDrop"] and "SYS_TIME" in host["CapAdd"]
    config = agent.inspect("limits", "app")["Config"]
    assert config["User"] == "65534:65534"
    assert config["WorkingDir"] == "/tmp"
    assert agent.pod("limits")["status"]["qosClass"] == "Burstable"


def test_restart_adoption_restarts_no_container(agent_factory) -> None:  # type: ignore[no-untyped-def]
    first = agent_factory().start()
    first.copy_example("nginx-truncator.yaml")
    first.write("sleeper.yaml", SLEEPER.format(name="sleeper", seconds=3600))
    first.write("gone.yaml", SLEEPER.format(name="gone", seconds=3600))
    wait_for("all pods running", lambda: len(first.containers()) == 7, timeout=90)
    before = {c["Id"]: c["Created"] for c in first.containers()}

    first.stop(signal.SIGKILL)
    assert len(first.containers()) == 7, "pods keep running while the agent is down"
    first.remove("gone.yaml")  # removed while the agent was down
    first.start()
    wait_for("the orphan to be removed", lambda: not first.containers("gone", all=True), timeout=30)
    wait_for(
        "both pods Running in /pods",
        lambda: first.phase("nginx-truncator") == "Running" and first.phase("sleeper") == "Running",
        timeout=30,
    )
    after = {c["Id"] for c in first.containers()}
    survivors = {cid for cid in before if cid in after}
    assert len(survivors) == 5 and after == survivors, "no container of a surviving pod was restarted"
    for item in first.pods():
        for status in item["status"]["containerStatuses"]:
            assert status["restartCount"] == 0

    # SIGTERM leaves pods running too.
    assert first.stop(signal.SIGTERM) == 0
    assert {c["Id"] for c in first.containers()} == after


def test_stopped_container_is_restarted(agent: Agent) -> None:
    agent.write("victim.yaml", SLEEPER.format(name="victim", seconds=3600))
    wait_for("the pod Running", lambda: agent.phase("victim") == "Running", timeout=60)
    app = agent.inspect("victim", "app")
    agent.api.kill(app["Id"])
    wait_for(
        "a new instance",
        lambda: (
            agent.pod("victim")["status"]["containerStatuses"][0]["restartCount"] == 1
            and agent.phase("victim") == "Running"
        ),
        timeout=30,
    )
    assert agent.inspect("victim", "app")["Name"].endswith("_1")
