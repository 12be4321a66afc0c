"""``pykubelet get|describe|logs`` in-process, against a loopback stand-in for the read-only port.

``commands.main`` runs in this process with a tiny HTTP server on 127.0.0.1 serving ``/pods`` and
``/events`` (``kubectl_support.py``), so its tables, ``-o json|yaml``, name lookup and every error
sentence are asserted without a subprocess. ``pick_container`` picks the instance ``logs`` reads (no
Docker needed for that).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from pykubelet.kubectl import commands
from pykubelet.kubectl.client import AgentUnreachable, fetch, fetch_items, find_pod
from pykubelet.kubectl.logs import LogsError, pick_container
from tests.unit.kubectl_support import UID, Agent, run, squash, the_pod
from tests.unit.kubectl_support import server_fixture as server_fixture  # fixture
from tests.unit.kubectl_support import utc_fixture as utc_fixture  # autouse fixture

# -- the subcommands against a loopback read-only port -------------------------------------------------------


def test_get_pods_prints_kubectls_table(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--server", server, "get", "pods")
    header, row = out.splitlines()
    assert code == 0 and header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[:4] == ["web-node-a", "1/1", "Running", "1"]
    code, out, _ = run(capsys, "get", "po", "-o", "wide", "--server", server)
    assert out.splitlines()[1].split()[-4:] == ["10.88.0.2", "node-a", "<none>", "<none>"]


def test_get_one_pod_by_its_manifest_name_as_json_and_yaml(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, f"--server={server}", "get", "pod", "web", "-o", "json")
    assert code == 0 and json.loads(out)["metadata"]["uid"] == UID
    code, out, _ = run(capsys, f"--server={server}", "get", "pods", "-o", "yaml")
    listed = yaml.safe_load(out)
    assert listed["kind"] == "List" and [p["metadata"]["name"] for p in listed["items"]] == ["web-node-a"]


def test_get_events_names_pods_and_files(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--server", server, "get", "events")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "pod/web-node-a" in lines[1] and "file//etc/kubernetes/manifests/bad.yaml" in lines[3]
    code, out, _ = run(capsys, "--server", server, "get", "ev", "-o", "json")
    assert json.loads(out)["kind"] == "EventList" and len(json.loads(out)["items"]) == 3


def test_describe_shows_only_the_pods_own_events(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--server", server, "describe", "pod", "web-node-a")
    assert code == 0 and squash(out).startswith("Name: web-node-a\n")
    assert "BackOff" in out and "Pulled" in out and "FailedValidation" not in out


def test_an_empty_namespace_and_no_events_are_said_plainly(
    server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "--server", server, "get", "pods", "-n", "kube-system")
    assert (code, out, err) == (0, "", "No resources found in kube-system namespace.\n")
    monkeypatch.setattr(Agent, "events", [])
    assert run(capsys, "--server", server, "get", "events") == (0, "No events found.\n", "")


def test_an_unknown_pod_is_one_error_line(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--server", server, "describe", "pod", "nope")
    assert (code, out) == (1, "")
    assert err == (
        'error: pods "nope" not found in namespace default '
        f"(`pykubelet get pods -A` lists every pod of {server})\n"
    )


def test_logs_of_a_container_that_is_not_in_the_pod_is_one_error_line(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--server", server, "logs", "web", "-c", "db")
    assert (code, err) == (1, "error: container db is not valid for pod web-node-a\n")


def test_what_is_not_a_pykubelet_is_named(
    server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Agent, "body", b"<html>hello</html>")
    code, _, err = run(capsys, "--server", server, "get", "pods")
    assert code == 1 and err == (
        f"error: {server}/pods answered, but not with JSON: is {server} the read-only port of a pykubelet?\n"
    )
    monkeypatch.setattr(Agent, "body", b'{"items": 3}')
    with pytest.raises(AgentUnreachable, match="answered JSON without a list of items"):
        fetch_items(server, "/pods")
    monkeypatch.setattr(Agent, "body", None)
    with pytest.raises(
        AgentUnreachable, match=r"answered 404 Not Found: is .* the read-only port of a pykubelet"
    ):
        fetch(server, "/nope")


def test_no_agent_and_no_url_say_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as unused:  # a port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    code, _, err = run(capsys, "--server", url, "get", "pods")
    assert code == 1 and err.startswith(f"error: no pykubelet answers at {url} (")
    assert "Start it with `./lab run`" in err
    code, _, err = run(capsys, "--server", "localhost:10255", "get", "pods")
    assert (code, err) == (
        1,
        "error: --server localhost:10255: not a URL; the read-only port is such as "
        "--server http://127.0.0.1:10255\n",
    )


def test_subcommands_are_told_from_agent_flags() -> None:
    assert commands.is_subcommand(["get", "pods"])
    assert commands.is_subcommand(["--server", "http://x", "describe", "pod", "a"])
    assert commands.is_subcommand(["--server=http://x", "logs", "a"])
    assert not commands.is_subcommand(["--pod-manifest-path", "/etc/kubernetes/manifests"])
    assert not commands.is_subcommand([])


def test_find_pod_takes_the_full_name_or_the_manifest_name() -> None:
    pods = [the_pod()]
    assert find_pod(pods, "web-node-a", None) is pods[0]
    assert find_pod(pods, "web", "default") is pods[0]
    assert find_pod(pods, "web", "other") is None and find_pod(pods, "we", None) is None


# -- which instance `logs` reads -----------------------------------------------------------------------------


def test_logs_reads_the_current_or_the_previous_instance() -> None:
    pod = the_pod()
    assert pick_container(pod, None, previous=False) == ("app", 1)  # restartCount: the current instance
    assert pick_container(pod, "app", previous=True) == ("app", 0)
    assert pick_container(pod, "setup", previous=False) == ("setup", 0)


WAITING = {"reason": "ErrImagePull"}


@pytest.mark.parametrize(
    ("change", "container", "previous", "message"),
    [
        (lambda p: p["spec"]["containers"].append({"name": "b", "image": "x"}), None, False,
         "a container name must be specified for pod web-node-a, choose one of: [app b]"),
        (lambda p: None, "setup", True,
         'previous terminated container "setup" in pod "web-node-a" not found'),
        (lambda p: p["status"].update(containerStatuses=[{"name": "app", "state": {"waiting": WAITING}}]),
         "app", False, 'container "app" in pod "web-node-a" is waiting to start: ErrImagePull'),
        (lambda p: p.update(status={}), "app", False,
         'container "app" in pod "web-node-a" is waiting to start: ContainerCreating'),
    ],
    ids=["several-containers", "no-previous", "waiting", "no-status"],
)  # fmt: skip
def test_logs_says_why_there_is_nothing_to_read(
    change: Any, container: str | None, previous: bool, message: str
) -> None:
    pod = the_pod()
    change(pod)
    with pytest.raises(LogsError) as error:
        pick_container(pod, container, previous)
    assert str(error.value) == message
