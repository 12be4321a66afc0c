"""The Vagrant lab on the docker provider, for real, through ./lab (python-vagrant): up, status, the
walkthrough over SSH, the read-only port from this host, down. Fails, never skips, when it cannot run.

It uses its own Vagrant state (.lab/vagrant-test), container name prefix and first port, so it never touches a
lab someone brought up with ./lab up in the same checkout.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest

from tests.lab.helpers import REPO, lab_env, output, run

PREFIX = "pykubelet-test"


def lab(*args: str, timeout: float = 300) -> tuple[int, str]:
    env = lab_env(
        LAB_PREFIX=PREFIX,
        LAB_PORT="10265",
        VAGRANT_DOTFILE_PATH=str(REPO / ".lab" / "vagrant-test"),
    )
    result = run([str(REPO / "lab"), *args], env=env, timeout=timeout)
    return result.returncode, output(result)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@pytest.mark.lab
@pytest.mark.timeout(1800)
def test_vagrant_docker_provider_lab() -> None:
    start = time.monotonic()
    try:
        code, out = lab("up", "--provider", "docker", timeout=1200)
        assert code == 0, f"./lab up failed:\n{out}"
        up_took = time.monotonic() - start

        code, out = lab("status")
        assert code == 0, out
        match = re.search(r"lab-1\s+running\s+docker\s+http://127\.0\.0\.1:(\d+)/healthz -> ok", out)
        assert match, f"./lab status does not show lab-1 running with /healthz ok:\n{out}"
        port = int(match.group(1))

        # the read-only port, from this host, through Vagrant's forwarded port (127.0.0.1 only)
        assert get(f"http://127.0.0.1:{port}/healthz") == "ok"
        assert json.loads(get(f"http://127.0.0.1:{port}/pods"))["kind"] == "PodList"

        walk_start = time.monotonic()
        code, out = lab("walkthrough", timeout=600)
        assert code == 0, f"./lab walkthrough failed:\n{out}"
        assert re.search(r"lab-1\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", out), out
        print(f"vagrant docker provider: up {up_took:.0f}s, walkthrough {time.monotonic() - walk_start:.0f}s")
    finally:
        down_start = time.monotonic()
        code, out = lab("down", timeout=300)
        print(f"vagrant docker provider: down {time.monotonic() - down_start:.0f}s")
    assert code == 0, f"./lab down failed:\n{out}"
    left = run(["docker", "ps", "--all", "--quiet", "--filter", f"name=^{PREFIX}-"])
    assert left.stdout.strip() == "", f"./lab down left containers: {left.stdout}"
