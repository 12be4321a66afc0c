"""kubectl's habits in `pykubelet get`: one namespace by default, -A, -o name, -l, --show-labels, -w, sorted
YAML (issue 15, item 15). Against the loopback stand-in for the read-only port in kubectl_support.py."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
import yaml

from pykubelet.kubectl import commands
from pykubelet.kubectl.selectors import SelectorError, parse_selector
from tests.unit.kubectl_support import Agent, run, the_pod
from tests.unit.kubectl_support import server_fixture as server_fixture  # fixture
from tests.unit.kubectl_support import utc_fixture as utc_fixture  # autouse fixture


def other_pod(namespace: str = "kube-system", **labels: str) -> dict[str, Any]:
    pod = copy.deepcopy(the_pod())
    pod["metadata"].update(name="etcd-node-a", namespace=namespace, uid="f" * 32, labels=labels)
    return pod


@pytest.fixture
def two_namespaces(server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(Agent, "pods", [the_pod(), other_pod(component="etcd")])
    return server


def test_get_pods_shows_the_default_namespace_and_all_with_a_namespace_column(
    two_namespaces: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "--server", two_namespaces, "get", "pods")
    assert "web-node-a" in out and "etcd-node-a" not in out
    _, out, _ = run(capsys, "--server", two_namespaces, "get", "pods", "-n", "kube-system")
    assert "etcd-node-a" in out and "web-node-a" not in out
    _, out, _ = run(capsys, "--server", two_namespaces, "get", "pods", "-A")
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == ["kube-system", "etcd-node-a"] for line in lines[1:])


def test_name_output_labels_and_selectors(two_namespaces: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--server", two_namespaces, "get", "pods", "-A", "-o", "name")[1].split() == [
        "pod/web-node-a",
        "pod/etcd-node-a",
    ]
    _, out, _ = run(
        capsys, "--server", two_namespaces, "get", "pods", "-A", "-l", "component=etcd", "-o", "name"
    )
    assert out.split() == ["pod/etcd-node-a"]
    _, out, _ = run(capsys, "--server", two_namespaces, "get", "pods", "--show-labels")
    assert out.splitlines()[0].split()[-1] == "LABELS" and "app=web,tier=front" in out
    code, _, err = run(capsys, "--server", two_namespaces, "get", "pods", "-l", "a=(")
    assert code == 1 and "unable to parse requirement" in err


def test_yaml_keys_are_sorted_as_kubectl_prints_them(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--server", server, "get", "pods", "web", "-o", "yaml")
    top = [line.split(":")[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert top == sorted(top) and yaml.safe_load(out)["metadata"]["name"] == "web-node-a"


def test_watch_prints_a_row_when_a_pod_changes(
    server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(commands, "WATCH_PERIOD", 0.05)
    looks = 0
    real_sleep = commands.time.sleep

    def sleep(seconds: float) -> None:
        nonlocal looks
        looks += 1
        if looks == 2:  # the pod changes once, then the user presses Ctrl-C
            changed = the_pod()
            changed["status"]["phase"] = "Failed"
            changed["status"]["reason"] = "Evicted"
            Agent.pods = [changed]
        if looks == 4:
            raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(commands.time, "sleep", sleep)
    assert threading.current_thread() is threading.main_thread()
    code, out, _ = run(capsys, "--server", server, "get", "pods", "-w")
    lines = out.splitlines()
    assert code == 130 and lines[0].startswith("NAME")
    assert len(lines) == 3 and "Evicted" in lines[2] and "NAME" not in lines[2]


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web,tier!=db", {"app": "web", "tier": "front"}, True),
        ("tier!=db", {}, True),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("app in (web,api)", {"app": "api"}, True),
        ("app notin (web,api)", {"app": "api"}, False),
        ("app=web,tier", {"app": "web"}, False),
    ],
)
def test_selectors_read_as_kubectl_reads_them(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_selector(selector)(labels) is matches


@pytest.mark.parametrize("selector", ["", "a=b,", "=b", "a in b"])
def test_a_selector_kubectl_refuses_is_refused(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(selector)
