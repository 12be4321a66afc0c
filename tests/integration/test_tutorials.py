"""The kubernetes.io tutorials a learner tries next, run on the lab's local images through a real pykubelet.

Each test runs one tutorial's manifest from manifests/tutorials/ (adapted to busybox:1.35 and nginx:1.22; each
file says how) and checks the output the tutorial documents: what the containers log, what nginx serves at
the pod IP, what `kubectl exec` shows (here: docker exec into the container pykubelet started). They fail
when the look-alike images built by scripts/build-images.sh stop behaving like the upstream ones where the
tutorials look: nginx's server root and welcome page, busybox's applets (printenv), a pause holding the pod.
All pods share one agent; a test removes its pod without waiting for busybox shells that ignore SIGTERM.
"""

from __future__ import annotations

import urllib.request
from typing import Any

from tests.integration.conftest import MANIFESTS, Agent, wait_for

TUTORIALS = MANIFESTS / "tutorials"


def _run(agent: Agent, filename: str) -> None:
    agent.write(filename, (TUTORIALS / filename).read_text())


def _http(ip: str, path: str = "/") -> str:
    """GET from a pod this test started (on the local docker bridge), never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{ip}{path}", timeout=3) as response:
        return response.read().decode()


def _container_id(agent: Agent, pod: str, container: str) -> str:
    """The newest Docker container of ``container`` in ``pod``, running or exited."""
    matches = [
        c
        for c in agent.containers(pod, all=True)
        if c["Labels"].get("io.kubernetes.container.name") == container
    ]
    assert matches, f"no container {container} in pod {pod}"
    return str(max(matches, key=lambda c: c["Created"])["Id"])


def _logs(agent: Agent, pod: str, container: str) -> str:
    return agent.api.logs(_container_id(agent, pod, container), stdout=True, stderr=True).decode()


def _exec(agent: Agent, pod: str, container: str, command: list[str]) -> tuple[int, str]:
    """What `kubectl exec POD -c CONTAINER -- COMMAND` shows: exit code and output."""
    exec_id = agent.api.exec_create(_container_id(agent, pod, container), command)["Id"]
    output = agent.api.exec_start(exec_id).decode()
    return agent.api.exec_inspect(exec_id)["ExitCode"], output


def _status(agent: Agent, pod: str, container: str, init: bool = False) -> dict[str, Any]:
    found = agent.pod(pod)
    assert found is not None, f"pod {pod} is not in /pods"
    key = "initContainerStatuses" if init else "containerStatuses"
    return next(s for s in found["status"].get(key, []) if s["name"] == container)


def _completed(agent: Agent, pod: str, container: str, init: bool = False) -> bool:
    terminated = _status(agent, pod, container, init)["state"].get("terminated") or {}
    return terminated.get("reason") == "Completed" and terminated.get("exitCode") == 0


def _pod_ip(agent: Agent, pod: str) -> str:
    found = agent.pod(pod)
    assert found is not None and found["status"].get("podIP"), f"pod {pod} has no IP yet"
    return str(found["status"]["podIP"])


def test_shared_volume_between_two_containers(shared_agent: Agent) -> None:
    """nginx serves, from /usr/share/nginx/html, the index.html the other container wrote in the emptyDir."""
    _run(shared_agent, "two-container-pod.yaml")
    wait_for(
        "debian-container Completed and nginx-container running",
        lambda: (
            _completed(shared_agent, "two-containers", "debian-container")
            and "running" in _status(shared_agent, "two-containers", "nginx-container")["state"]
        ),
        timeout=60,
    )
    assert shared_agent.phase("two-containers") == "Running"  # restartPolicy Never: the writer stays exited
    ip = _pod_ip(shared_agent, "two-containers")
    page = wait_for("nginx to serve the shared page", lambda: _http(ip), timeout=20)
    assert page == "Hello from the debian container\n"
    shared_agent.remove("two-container-pod.yaml")


def test_dependent_environment_variables(shared_agent: Agent) -> None:
    _run(shared_agent, "dependent-envars.yaml")
    documented = [
        "UNCHANGED_REFERENCE=$(PROTOCOL)://172.17.0.1:80",
        "SERVICE_ADDRESS=https://172.17.0.1:80",
        "ESCAPED_REFERENCE=$(PROTOCOL)://172.17.0.1:80",
    ]
    pod = "dependent-envars-demo"
    logs = wait_for(
        "the three lines in the log",
        lambda: (text := _logs(shared_agent, pod, pod)).count("\n") >= 4 and text,
        timeout=60,
    )
    assert logs.splitlines()[:4] == ["", *documented]
    # the same values through printenv, the applet Debian's busybox-static lacks (the image adds it)
    names = [line.split("=", 1)[0] for line in documented]
    code, output = _exec(shared_agent, pod, pod, ["printenv", *names])
    assert (code, output.splitlines()) == (0, [line.split("=", 1)[1] for line in documented])
    assert _exec(shared_agent, pod, pod, ["printenv", "NOT_DEFINED"]) == (1, ""), "unset: no output, exit 1"
    shared_agent.remove("dependent-envars.yaml")


def test_command_and_arguments(shared_agent: Agent) -> None:
    _run(shared_agent, "commands.yaml")
    _run(shared_agent, "commands-env.yaml")
    wait_for("command-demo Succeeded", lambda: shared_agent.phase("command-demo") == "Succeeded", timeout=60)
    # HOSTNAME is the pod's name, which for a static pod ends with the node's name
    assert _logs(shared_agent, "command-demo", "command-demo-container") == (
        f"command-demo-{shared_agent.node}\ntcp://10.3.240.1:443\n"
    )
    assert _status(shared_agent, "command-demo", "command-demo-container")["restartCount"] == 0

    wait_for(
        "the message container Completed",
        lambda: _completed(shared_agent, "command-env-demo", "message"),
        timeout=60,
    )
    assert _logs(shared_agent, "command-env-demo", "message") == "hello world\n"
    shell_log = wait_for(
        "the shell loop's first line", lambda: _logs(shared_agent, "command-env-demo", "shell"), timeout=20
    )
    assert shell_log.splitlines()[0] == "hello"
    shared_agent.remove("commands.yaml")
    shared_agent.remove("commands-env.yaml")


def test_init_container_fills_the_page_nginx_serves(shared_agent: Agent) -> None:
    _run(shared_agent, "init-containers.yaml")
    wait_for("init-demo Running", lambda: shared_agent.phase("init-demo") == "Running", timeout=60)
    assert _completed(shared_agent, "init-demo", "install", init=True)
    assert _status(shared_agent, "init-demo", "nginx")["ready"]
    ip = _pod_ip(shared_agent, "init-demo")
    page = wait_for("nginx to serve the fetched page", lambda: _http(ip), timeout=20)
    assert "<title>http://info.cern.ch</title>" in page
    assert "<h1>http://info.cern.ch - home of the first website</h1>" in page
    shared_agent.remove("init-containers.yaml")


def test_lifecycle_hooks(shared_agent: Agent) -> None:
    _run(shared_agent, "lifecycle-events.yaml")
    pod, container = "lifecycle-demo", "lifecycle-demo-container"
    wait_for("lifecycle-demo Running", lambda: shared_agent.phase(pod) == "Running", timeout=60)
    # `kubectl exec -it lifecycle-demo -- /bin/bash`, then `cat /usr/share/message`
    assert _exec(shared_agent, pod, container, ["/bin/bash", "-c", "cat /usr/share/message"]) == (
        0,
        "Hello from the postStart handler\n",
    )
    # the image's own page from its default server: upstream's root and welcome page, on port 80
    page = wait_for("nginx's welcome page", lambda: _http(_pod_ip(shared_agent, pod)), timeout=20)
    assert "<h1>Welcome to nginx!</h1>" in page
    code, logged = _exec(shared_agent, pod, container, ["cat", "/var/log/nginx/access.log"])
    assert code == 0 and '"GET / HTTP/1.1" 200' in logged

    shared_agent.remove("lifecycle-events.yaml")
    wait_for(
        "the pod to go (preStop: nginx -s quit)",
        lambda: not shared_agent.containers(pod, all=True),
        timeout=40,
    )
    events = shared_agent.get("/events")["items"]
    mine = [e for e in events if e["involvedObject"]["name"] == f"{pod}-{shared_agent.node}"]
    assert "FailedPostStartHook" not in {e["reason"] for e in mine}
    # As with the real kubelet (kubernetes/website#12563, canonical/microk8s#138), the preStop hook may be
    # reported failed: nginx quits, the container's PID 1 is gone, and the hook's shell is killed (137) before
    # it returns. Then the message is the hook's output so far: nginx's "signal process started".
    for event in mine:
        if event["reason"] == "FailedPreStopHook":
            assert "signal process started" in event["message"], event
