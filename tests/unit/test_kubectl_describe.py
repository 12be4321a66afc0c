"""``describe_pod`` checked line by line against kubectl's layout (labels, annotations, IPs, init and app
containers with their states, resources, env, mounts, conditions, volumes, QoS, tolerations, events)."""

from __future__ import annotations

from datetime import datetime, timezone

from pykubelet.kubectl.describe import describe_pod
from tests.unit.kubectl_support import EVENTS, UID, squash, the_pod
from tests.unit.kubectl_support import utc_fixture as utc_fixture  # autouse fixture

NOW = datetime(2026, 1, 1, 1, 0, 0, tzinfo=timezone.utc)


def test_describe_lays_the_pod_out_as_kubectl_does() -> None:
    text = describe_pod(the_pod(), EVENTS[:2], NOW)
    assert squash(text).splitlines()[:8] == [
        "Name: web-node-a",
        "Namespace: default",
        "Node: node-a/10.0.0.1",
        "Start Time: Thu, 01 Jan 2026 00:00:01 +0000",
        "Labels: app=web",
        "tier=front".rjust(len(text.splitlines()[5])),
        "Annotations: kubernetes.io/config.seen: 2026-01-01T00:00:00.000000000Z",
        "Status: Running",
    ]
    for expected in [
        "IPs:\n  IP: 10.88.0.2",
        "Controlled By: Node/node-a",
        "Init Containers:\n  setup:\n    Container ID: docker://init1\n    Image: busybox:1.35",
        "    State: Terminated\n      Reason: Completed\n      Exit Code: 0",
        "    Ports: 80/TCP, 53/UDP\n    Host Ports: 8080/TCP, 0/UDP",
        "    Args:\n      -g\n      daemon off;",
        "    State: Running\n      Started: Thu, 01 Jan 2026 00:10:00 +0000",
        "    Last State: Terminated\n      Reason: Error\n      Message: boom\n      Exit Code: 1",
        "    Ready: True\n    Restart Count: 1",
        "    Limits:\n      cpu: 500m\n      memory: 64Mi\n    Requests:\n      cpu: 250m",
        "      MODE: prod\n      POD_IP: (v1:status.podIP)\n"
        '      LIMIT: {"resourceFieldRef": {"resource": "limits.cpu"}}',
        '    Mounts:\n      /logs from logs (ro)\n      /var/data from data (rw,path="web")',
        "Conditions:\n  Type          Status\n  Initialized   True\n  Ready         True",
        "    Type: EmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium: Memory\n"
        "    SizeLimit: 1Mi",
        "    Type: HostPath (bare host directory volume)\n    Path: /var/log/web\n"
        "    HostPathType: DirectoryOrCreate",
        "QoS Class: Burstable\nNode-Selectors: disktype=ssd\nTolerations: :NoExecute op=Exists",
        "k=v:NoSchedule for 30s",
    ]:
        assert expected in squash(text), f"missing:\n{expected}\n--- in ---\n{text}"
    events = text[text.index("Events:") :].splitlines()
    assert [line.split() for line in events[1:]] == [
        ["Type", "Reason", "Age", "From", "Message"],
        ["----", "------", "----", "----", "-------"],
        ["Normal", "Pulled", "59m", "kubelet", "Container", "image", "already", "present"],
        ["Warning", "BackOff", "5m", "(x3", "over", "55m)", "kubelet", "Back-off", "restarting", "failed",
         "container", "app"],
    ]  # fmt: skip


def test_describe_aligns_each_block_two_spaces_past_its_longest_label_as_kubectls_tabwriter() -> None:
    lines = describe_pod(the_pod(), [], NOW).splitlines()
    head = lines[: lines.index("IPs:")]  # a line without a value ends a tabwriter block
    starts = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in head if not line.startswith(" ")}
    assert starts == {len("Annotations:") + 2}
    assert lines[lines.index("IPs:") + 1 : lines.index("IPs:") + 3] == [
        "  IP:           10.88.0.2",
        "Controlled By:  Node/node-a",  # kubectl's own misalignment after the IPs block
    ]


def test_describe_a_pending_pod_says_none_where_there_is_nothing() -> None:
    pod = {
        "metadata": {"name": "p", "uid": UID},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.35"}]},
        "status": {"phase": "Failed", "reason": "NodeAffinity", "message": "Pod was rejected"},
    }
    text = squash(describe_pod(pod, [], NOW))
    for expected in [
        "Node: <none>",
        "Labels: <none>",
        "Annotations: <none>",
        "Status: Failed\nReason: NodeAffinity\nMessage: Pod was rejected",
        "IPs: <none>",
        "    Port: <none>\n    Host Port: <none>",
        "    Environment: <none>\n    Mounts: <none>",
        "Volumes: <none>",
        "Node-Selectors: <none>\nTolerations: <none>",
        "Events: <none>",
    ]:
        assert expected in text, f"missing:\n{expected}\n--- in ---\n{text}"
    assert "Start Time" not in text and "Conditions" not in text
