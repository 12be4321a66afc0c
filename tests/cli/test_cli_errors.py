"""Every command of the project meets a user's mistake with a sentence, never a Python traceback.

Each case runs the real command as a subprocess (the pykubelet CLI, ``python -m labctl``, ``./lab``) and
checks: a non-zero exit, no "Traceback", and the words that tell the user what happened or what to do.
No Docker is needed: the agent's read-only port is a small fake served here on loopback (or an unused
loopback port, for "no agent"), and "no permission" is a root-only log file read as the ``nobody`` user.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYKUBELET = str(Path(sys.executable).parent / "pykubelet")
UID = "0123456789abcdef0123456789abcdef"
POD = {
    "metadata": {"name": "web-node1", "namespace": "default", "uid": UID, "annotations": {}},
    "spec": {"nodeName": "node1", "containers": [{"name": "web", "image": "nginx:1.22"}]},
    "status": {
        "phase": "Running",
        "containerStatuses": [
            {"name": "web", "ready": True, "restartCount": 0, "containerID": "docker://abc123",
             "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}
        ],
    },
}  # fmt: skip


class ReadOnlyPort(BaseHTTPRequestHandler):
    """A pykubelet read-only port with one pod, or (``/other`` prefix) something that is not one."""

    def do_GET(self) -> None:
        answers = {
            "/pods": {"kind": "PodList", "items": [POD]},
            "/events": {"kind": "EventList", "items": []},
        }
        if self.path.startswith("/other/"):
            body, kind, code = b"<html>hello</html>", "text/html", 200
        elif self.path in answers:
            body, kind, code = json.dumps(answers[self.path]).encode(), "application/json", 200
        else:
            body, kind, code = b"404 page not found\n", "text/plain", 404
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ReadOnlyPort)
    thread = threading.Thread(target=httpd.serve_forever, name="fake-read-only-port", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def unused_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def root_only_logs(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A pod logs dir whose web/0.log only root may read (0600; 0000 when the tests do not run as root)."""
    directory = tmp_path_factory.mktemp("podlogs")
    for parent in [directory, *directory.parents]:  # let `nobody` reach it
        if parent == Path("/tmp") or not str(parent).startswith("/tmp/"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    log = directory / f"default_web-node1_{UID}" / "web" / "0.log"
    log.parent.mkdir(parents=True)
    for parent in (log.parent, log.parent.parent):
        parent.chmod(0o755)
    log.write_text('{"log":"hello\\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}\n')
    log.chmod(0o600 if os.geteuid() == 0 else 0)
    return str(directory)


def as_nobody() -> list[str]:
    """The prefix that runs a command as `nobody` without the docker group (when we are root)."""
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []


def fails_cleanly(command: list[str], *words: str, code: int | None = None, **env: str) -> str:
    result = subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    said = result.stdout + result.stderr
    assert "Traceback" not in said, said
    assert result.returncode != 0, said
    if code is not None:
        assert result.returncode == code, said
    for word in words:
        assert word in said, said
    return said


# -- the pykubelet CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["get", "pods"], ["get", "events"], ["describe", "pod", "web"], ["logs", "web"]],
    ids=["get-pods", "get-events", "describe", "logs"],
)
def test_no_agent_says_where_it_looked_and_how_to_start_one(unused_port: str, args: list[str]) -> None:
    fails_cleanly(
        [PYKUBELET, "--server", unused_port, *args], f"no pykubelet answers at {unused_port}", "./lab run"
    )


def test_server_after_the_subcommand_works_like_kubectl(unused_port: str) -> None:
    fails_cleanly(
        [PYKUBELET, "get", "pods", "--server", unused_port], f"no pykubelet answers at {unused_port}"
    )


def test_a_server_that_is_not_a_url(unused_port: str) -> None:
    fails_cleanly([PYKUBELET, "--server", "localhost:10255", "get", "pods"], "not a URL", "--server http://")


def test_something_else_on_the_port(server: str) -> None:
    fails_cleanly([PYKUBELET, "--server", f"{server}/other", "get", "pods"], "not with JSON")
    fails_cleanly([PYKUBELET, "--server", f"{server}/missing", "get", "pods"], "answered 404")


@pytest.mark.parametrize(
    "args",
    [["describe", "pod", "nope"], ["logs", "nope"], ["get", "pod", "nope"]],
    ids=["describe", "logs", "get"],
)
def test_an_unknown_pod_is_named_with_where_to_look(server: str, args: list[str]) -> None:
    fails_cleanly([PYKUBELET, "--server", server, *args], 'pods "nope" not found', "pykubelet get pods")


def test_an_unknown_container_is_named(server: str) -> None:
    fails_cleanly(
        [PYKUBELET, "--server", server, "logs", "web", "-c", "db"], "container db is not valid for pod"
    )


@pytest.mark.parametrize(
    "args",
    [["get", "pods", "--bogus"], ["get", "nodes"], ["logs"], ["logs", "web", "--tail", "abc"], ["--bogus"]],
    ids=["unknown-flag", "unknown-resource", "missing-pod", "bad-number", "agent-flag"],
)
def test_a_bad_flag_gets_the_usage(args: list[str]) -> None:
    fails_cleanly([PYKUBELET, *args], "usage: pykubelet", code=2)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    fails_cleanly(
        [PYKUBELET, "--config", str(tmp_path / "absent.yaml")], "absent.yaml", "cannot read the file"
    )


def test_a_config_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "kubelet.yaml"
    bad.write_text("kind: [\n")
    fails_cleanly([PYKUBELET, "--config", str(bad)], "kubelet.yaml", "not valid YAML")


def test_the_read_only_port_serves_any_user(server: str) -> None:
    for args in (["get", "pods"], ["describe", "pod", "web"], ["get", "events"]):
        result = subprocess.run(
            [*as_nobody(), PYKUBELET, "--server", server, *args], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert "web-node1" in result.stdout or "No events" in result.stdout


def test_logs_without_access_to_the_log_file_say_to_use_sudo(server: str, root_only_logs: str) -> None:
    command = [PYKUBELET, "--server", server, "logs", "web", "--pod-logs-dir", root_only_logs]
    said = fails_cleanly([*as_nobody(), *command], "needs root", "sudo pykubelet")
    assert f"sudo pykubelet --server {server} logs web --pod-logs-dir {root_only_logs}" in said


def test_logs_without_a_log_file_say_where_they_looked(server: str, tmp_path: Path) -> None:
    command = [PYKUBELET, "--server", server, "logs", "web", "--pod-logs-dir", str(tmp_path)]
    fails_cleanly(command, f"no log file at {tmp_path}/default_web-node1_{UID}/web/0.log", "--pod-logs-dir")


def test_a_closed_pipe_ends_quietly(server: str) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # like `| head -0`: nobody reads
    try:
        result = subprocess.run(
            [PYKUBELET, "--server", server, "get", "pods"], stdout=writer, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(writer)
    assert result.stderr == ""
    assert result.returncode != 0


# -- ./lab and python -m labctl --------------------------------------------------------------------------


@pytest.fixture
def no_machines(tmp_path: Path) -> dict[str, str]:
    """An environment whose Vagrant index is empty, whatever this checkout's .vagrant holds."""
    return {"VAGRANT_DOTFILE_PATH": str(tmp_path / "vagrant-index")}


LABCTL = [sys.executable, "-m", "labctl"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["bogus"], ["invalid choice: 'bogus'"]),
        (["up", "--provider", "hyperv"], ["invalid choice: 'hyperv'"]),
        (["status", "--verbose"], ["unrecognized arguments: --verbose"]),
    ],
    ids=["unknown-command", "unknown-provider", "unknown-flag"],
)
def test_labctl_bad_arguments_get_the_usage(args: list[str], words: list[str]) -> None:
    fails_cleanly([*LABCTL, *args], "usage: ./lab", *words, code=2)


def test_lab_script_without_a_command_shows_its_usage() -> None:
    fails_cleanly([str(REPO / "lab"), "bogus"], "usage: ./lab", code=2)


def test_labctl_bad_environment_is_named(no_machines: dict[str, str]) -> None:
    fails_cleanly(
        [*LABCTL, "provider"], "LAB_PROVIDER=hyperv", "virtualbox, libvirt, docker", LAB_PROVIDER="hyperv"
    )
    fails_cleanly([*LABCTL, "status"], "LAB_NODES=two", "LAB_NODES=2", LAB_NODES="two", **no_machines)


def test_labctl_commands_before_up_say_to_run_up(no_machines: dict[str, str]) -> None:
    fails_cleanly(
        [*LABCTL, "walkthrough"], "no lab machine is running: start one with ./lab up", **no_machines
    )
    fails_cleanly([*LABCTL, "ssh"], "./lab up", **no_machines)


def test_labctl_up_without_permission_names_the_step_and_what_to_do() -> None:
    said = fails_cleanly(
        [*as_nobody(), *LABCTL, "up", "--provider", "docker"],
        "lab: error: step 'start the Docker engine' failed",
        "What to do:",
        "docker group",
        DOCKERD_WAIT_SECONDS="1",
        HOME="/tmp",
        VAGRANT_DOTFILE_PATH="/nonexistent/vagrant-index",  # no machines, and readable by nobody
    )
    assert "[3/3] create and provision" not in said


def test_bootstrap_bad_flag_gets_the_usage() -> None:
    fails_cleanly([sys.executable, "-m", "labctl.bootstrap", "--bogus"], "usage:", code=2)
