"""Every long-lived task of the real agent survives a failure of its work (issue 16, point 3).

``PYKUBELET_INJECT_FAULTS=*`` makes the first run of every supervised task fail (``supervisor.py``):
the file watcher, rescan and relist, the URL poll, the PLEG relist, housekeeping, runtime health, stats
and the pod workers. The agent must log each failure with the task's name, restart the task, and go on
doing its job: pods from both sources start, /healthz answers, and a manifest written afterwards is
picked up.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator

import pytest
import yaml

from tests.fault.helpers import pod
from tests.integration.conftest import Agent, wait_for

TASKS = (
    "file-watch",
    "file-rescan",
    "file-relist",
    "url-source",
    "pleg-events",
    "pleg-relist",
    "housekeeping",
    "runtime-health",
    "stats",
    "pod-",
)


@pytest.fixture
def pod_server() -> Iterator[str]:
    """A loopback HTTP server answering every GET with one Pod (the URL source's input)."""
    body = yaml.safe_dump(pod("from-url", volume=False)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pods"
    finally:
        server.shutdown()
        server.server_close()


def test_every_task_fails_once_is_restarted_and_the_agent_keeps_working(
    agent_factory: Callable[..., Agent], pod_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYKUBELET_INJECT_FAULTS", "*")
    agent = agent_factory(["--manifest-url", pod_server, "--http-check-frequency", "2s"])
    agent.write("first.yaml", pod("first", volume=False))
    agent.start()

    def running(name: str) -> bool:
        return any(c["State"] == "running" for c in agent.containers(name))

    wait_for("the file pod's container", lambda: running("first"), timeout=60)
    wait_for("the URL pod's container", lambda: running("from-url"), timeout=60)
    agent.write("later.yaml", pod("later", volume=False))
    wait_for("a manifest written after the faults", lambda: running("later"), timeout=60)
    wait_for("/healthz", lambda: agent.get("/healthz") == "ok", timeout=30)
    log = agent.log()
    missing = [t for t in TASKS if f"Background task {t}" not in log]
    assert not missing, f"no failure logged for {missing}"
    assert agent.alive()
