"""One behaviour, two runtimes: the same manifests on Docker and on containerd read the same everywhere a
learner looks.

Two agents, one per runtime, run the walkthrough pod, a pod that completes and a pod with an init container.
Then ``/pods``, ``pykubelet get pods`` (and ``-o wide``), ``pykubelet describe pod``, the events and the
dashboard's snapshot are compared after taking out only what must differ: the node name (and with it the
uid), runtime ids and their scheme, IPs, image ids, times and ages. What is left (phases, conditions,
container states and reasons, restart counts, ready flags, volumes, events' reasons and messages) must be
equal, field for field, line for line.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

from tests.integration.conftest import Agent, wait_for
from tests.integration.cri_support import Cri, cri_agent_factory_fixture, cri_fixture  # noqa: F401 (fixtures)

SLEEPER = "trap 'exit 0' TERM; sleep 3600 & wait"
ONCE = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "once"},
    "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "job", "image": "busybox:1.35", "command": ["sh", "-c", "echo finished"]}],
    },
}
WITH_INIT = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "withinit"},
    "spec": {
        "terminationGracePeriodSeconds": 0,
        "initContainers": [{"name": "prepare", "image": "busybox:1.35", "command": ["echo", "prepared"]}],
        "containers": [{"name": "app", "image": "busybox:1.35", "command": ["sh", "-c", SLEEPER]}],
    },
}
PODS = {"nginx-truncator": 2, "once": 0, "withinit": 1}  # pod -> containers running once settled

# Values that differ by nature between two nodes and two runtimes: blanked in /pods and the snapshot.
VOLATILE_KEYS = {
    "uid",
    "containerID",
    "podIP",
    "podIPs",
    "hostIP",
    "hostIPs",
    "imageID",
    "startTime",
    "startedAt",
    "finishedAt",
    "lastTransitionTime",
    "creationTimestamp",
    "firstTimestamp",
    "lastTimestamp",
    "eventTime",
    "resourceVersion",
    "id",
    "ip",
    "time",
    "age",
    "generatedAt",
    "created",
    "kubernetes.io/config.hash",  # of the pod with its node name
    "kubernetes.io/config.seen",
}
# containerd reports the image it resolved the name to (docker.io/library/nginx:1.22), Docker the name as
# given (nginx:1.22): the real kubelet shows the same difference.
DOCKER_HUB = "docker.io/library/"
# The same in text (get, describe): long hex ids, IPs, ages and times.
VOLATILE_TEXT = (
    (re.compile(r"\bdocker://(?=sha256:)"), ""),  # an undigested image id: docker://sha256:... / sha256:...
    (re.compile(r"\b(?:docker|containerd)://[0-9a-f]{12,64}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{32,64}\b"), "<hex>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT[\d:.]+Z\b"), "<time>"),
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} [\d:]+ [+-]\d{4}"), "<date>"),
    (re.compile(r"\b\d+(?:\.\d+)?(?:s|m|h|d)(?:\d+s)?\b"), "<age>"),
)


def settled(agent: Agent) -> bool:
    by_name = {p["metadata"]["name"].removesuffix(f"-{agent.node}"): p for p in agent.pods()}
    if set(by_name) != set(PODS):
        return False
    for name, running in PODS.items():
        statuses = by_name[name]["status"].get("containerStatuses") or []
        if sum(1 for s in statuses if "running" in s.get("state", {})) != running:
            return False
    return by_name["once"]["status"].get("phase") == "Succeeded"


UID = re.compile(r"\b[0-9a-f]{32}\b")  # a static pod's uid: a hash that takes in the node name


def local(text: str, agent: Agent) -> str:
    """``text`` with what names this agent (its node name, directories, pod uids) replaced by placeholders."""
    return UID.sub("<uid>", text.replace(agent.node, "<node>").replace(str(agent.root.parent), "<base>"))


def blank(value: Any, agent: Agent) -> Any:
    """``value`` with the volatile keys blanked and the agent's own names replaced, recursively."""
    if isinstance(value, dict):
        blanked = {k: "<volatile>" if k in VOLATILE_KEYS else blank(v, agent) for k, v in value.items()}
        if isinstance(value.get("image"), str):
            blanked["image"] = value["image"].removeprefix(DOCKER_HUB)
        return blanked
    if isinstance(value, list):
        return [blank(v, agent) for v in value]
    if isinstance(value, str):
        return local(value, agent)
    return value


def blank_text(text: str, agent: Agent) -> str:
    text = local(text, agent).replace(DOCKER_HUB, "")
    for pattern, placeholder in VOLATILE_TEXT:
        text = pattern.sub(placeholder, text)
    return re.sub(r"[ \t]+", " ", text)  # columns widen with the longer ids and names


def described(agent: Agent, pod: str) -> str:
    """``describe pod``, blanked, its events sorted: the app containers start concurrently, so events of the
    same second may come in either order."""
    text = blank_text(agent.cli("describe", "pod", pod), agent)
    head, marker, events = text.partition("\nEvents:")
    return head + marker + "\n".join(sorted(events.splitlines()))


def by_name(items: list[dict[str, Any]], agent: Agent) -> dict[str, Any]:
    """Pods (``/pods`` items, or the dashboard's cards) by their name without the node, blanked."""
    names = [item["metadata"]["name"] if "metadata" in item else item["name"] for item in items]
    return {
        name.removesuffix(f"-{agent.node}"): blank(item, agent)
        for name, item in zip(names, items, strict=True)
    }


def event_reasons(agent: Agent) -> list[tuple[str, str, str]]:
    """(pod, reason, message) of every event, in a stable order (two runtimes interleave pods differently)."""
    return sorted(
        {
            (
                e["involvedObject"]["name"].removesuffix(f"-{agent.node}"),
                e["reason"],
                blank_text(e.get("message", ""), agent),
            )
            for e in agent.get("/events")["items"]
        }
    )


def test_pods_get_describe_events_and_dashboard_read_the_same_on_both_runtimes(
    agent_factory: Callable[..., Agent], cri_agent_factory: Callable[..., Agent]
) -> None:
    agents = {"docker": agent_factory().start(), "containerd": cri_agent_factory().start()}
    for agent in agents.values():
        agent.copy_example("nginx-truncator.yaml")
        agent.write("once.yaml", ONCE)
        agent.write("withinit.yaml", WITH_INIT)
    for runtime, agent in agents.items():
        wait_for(f"the pods settled on {runtime}", lambda a=agent: settled(a) or None, timeout=90, interval=1)

    schemes = {
        runtime: {
            s["containerID"].split("://")[0]
            for p in agent.pods()
            for s in p["status"].get("containerStatuses") or []
        }
        for runtime, agent in agents.items()
    }
    assert schemes == {"docker": {"docker"}, "containerd": {"containerd"}}, schemes

    def same(what: str, read: Callable[[Agent], Any]) -> None:
        seen = {runtime: read(agent) for runtime, agent in agents.items()}
        if seen["containerd"] != seen["docker"]:
            lines = {
                runtime: (value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True))
                for runtime, value in seen.items()
            }
            docker_lines, containerd_lines = lines["docker"].splitlines(), lines["containerd"].splitlines()
            diff = difflib.unified_diff(docker_lines, containerd_lines, "docker", "containerd", lineterm="")
            raise AssertionError(f"{what} differs between the runtimes:\n" + "\n".join(diff))

    same("/pods", lambda a: by_name(a.pods(), a))
    for args in (("get", "pods"), ("get", "pods", "-o", "wide")):
        same(" ".join(args), lambda a, args=args: blank_text(a.cli(*args), a))
    for pod in PODS:
        same(f"describe pod {pod}", lambda a, pod=pod: described(a, pod))
    same("/events", event_reasons)
    same("the dashboard's snapshot", lambda a: by_name(a.get("/ui/snapshot")["pods"], a))
