"""The read-only port and the CLI when what is behind them is down: no agent answering the CLI, and a dead or
hung container engine behind a real agent, whose port still answers from memory."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import urllib.error
from pathlib import Path

import pytest

from tests.integration.conftest import Agent, wait_for


def test_cli_without_an_agent() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pykubelet", "--server", "http://127.0.0.1:9", "get", "pods"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "no pykubelet answers at http://127.0.0.1:9" in result.stderr


def test_dead_and_hung_engines_never_hang_the_port(agent_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hung = tmp_path / "hung.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(hung))
    server.listen(64)  # accepts connections, never answers: a hung engine
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        for endpoint in (f"unix://{hung}", f"unix://{tmp_path / 'absent.sock'}"):
            name = "hung" if "hung" in endpoint else "absent"
            agent = agent_factory(["--container-runtime-endpoint", endpoint], base=tmp_path / name)
            agent.write(
                "web.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
                "    - {name: a, image: busybox:1.35}\n",
            )
            agent.proc = subprocess.Popen(
                agent.command(),
                stdout=open(agent.log_file, "ab"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
            wait_for("the port", lambda a=agent: a.get("/healthz/ping") == "ok", timeout=20)

            def runtime_failed(a: Agent = agent) -> bool:
                try:
                    a.get("/healthz")
                except urllib.error.HTTPError as exc:
                    return exc.code == 500 and "runtime failed" in exc.read().decode()
                return False

            wait_for("healthz to report the runtime", runtime_failed, timeout=20)
            # The engine never answers at all: an answer here (urllib gives up after 5 s) proves the port
            # serves from memory, not from the engine.
            for _ in range(5):
                with pytest.raises(urllib.error.HTTPError):
                    agent.get("/healthz?verbose")
                assert agent.get("/pods")["kind"] == "PodList"
            assert agent.alive()
            agent.stop()
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()
