"""Molecule's scenarios, for real, each on one instance of its own.

The default scenario (the lab on Docker), step by step:

1. create and prepare a fresh instance;
2. ``converge -- --check --diff``: check mode runs through all three roles on a host that has nothing
   yet, reports what each would change (with diffs), and changes nothing;
3. ``converge -- --tags docker``, then ``--tags pykubelet``, then ``--tags lab``: each runs only that
   role's tasks, and together they build the whole lab;
4. idempotence (a full converge changes nothing more), then ``--check --diff`` on the converged host
   (no change);
5. verify (the walkthrough, the service's settings and the roles' answers to bad input), destroy.

The containerd scenario (pykubelet as containerd's CRI client) as ``molecule test -s containerd`` runs it:
create, prepare, converge, idempotence, verify (the walkthrough through the CRI, the service's settings, a
containerd restart that restarts no pod), destroy.

MOLECULE_DISTRO picks the instance's distribution (bookworm by default). Fails, never skips, when it
cannot run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.lab.helpers import REPO, lab_env, output, run, tool

DISTRO = os.environ.get("MOLECULE_DISTRO", "bookworm")
IMAGE = f"pykubelet-lab/systemd:{DISTRO}"
INSTANCE = f"pykubelet-lab-molecule-default-{DISTRO}"  # .config/molecule/config.yml names it
ROLES = ("docker", "pykubelet", "lab")
TASK = re.compile(r"^TASK \[(?P<role>[\w-]+) : (?P<name>[^\]]+)\]", re.MULTILINE)
RECAP = re.compile(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


class Molecule:
    """Runs molecule subcommands on the scenario, keeping each step's output in a log file for the failure
    message (a failed step shows its own output, not the end of a five-step log)."""

    def __init__(self, logs: Path, source: Path, distro: str, scenario: str = "default") -> None:
        self.logs = logs
        self.env = lab_env(LAB_PYKUBELET_SOURCE_DIR=str(source), MOLECULE_DISTRO=distro)
        self.scenario = scenario
        self.took: list[str] = []

    def __call__(self, label: str, command: str, *args: str, timeout: float = 600) -> str:
        start = time.monotonic()
        args = (command, "--scenario-name", self.scenario, *args)
        result = run([tool("molecule"), *args], env=self.env, timeout=timeout)
        took = time.monotonic() - start
        self.took.append(f"{label} {took:.0f}s")
        log = self.logs / f"{len(self.took):02d}-{label}.log"
        log.write_text(f"exit {result.returncode}\n{result.stdout}\n--- stderr ---\n{result.stderr}")
        assert result.returncode == 0, f"molecule {' '.join(args)} failed (log: {log}):\n{output(result)}"
        return result.stdout + result.stderr


def roles_that_ran(out: str) -> set[str]:
    """The roles with a task in an ansible-playbook output, not counting the argument validation every role
    runs under any tag (it is tagged ``always``)."""
    return {m["role"] for m in TASK.finditer(out) if not m["name"].startswith("Validating arguments")}


def changed_tasks(out: str) -> list[str]:
    """``role : task`` of every task that reported ``changed:`` (in check mode: would change)."""
    names, current = [], None
    for line in out.splitlines():
        if match := TASK.match(line):
            current = f"{match['role']} : {match['name']}"
        elif line.startswith("changed:") and current and current not in names:
            names.append(current)
    return names


def recap(out: str) -> tuple[int, int]:
    """(changed, failed) of the single host's PLAY RECAP line."""
    lines = RECAP.findall(out)
    assert len(lines) == 1, f"expected one PLAY RECAP line, got {lines}"
    _ok, changed, unreachable, failed = map(int, lines[0])
    assert unreachable == 0
    return changed, failed


def in_instance(*command: str) -> subprocess.CompletedProcess[str]:
    return run(["docker", "exec", INSTANCE, *command])


def snapshot_of_the_sources(tmp_path: Path) -> Path:
    """The sources the wheel is built from, copied: edits to agent/ while a scenario runs would otherwise
    change the wheel between converge and idempotence. Fails, never skips, without the instance image."""
    engine = run(["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE])
    if engine.returncode != 0:
        pytest.fail(
            f"cannot run molecule for MOLECULE_DISTRO={DISTRO}: the instance image {IMAGE} is not in "
            f"the Docker engine ({engine.stderr.strip()}); scripts/build-images.sh --with-systemd "
            "builds the bookworm one (docs/testing.md)"
        )
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "agent", source / "agent", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    return source


@pytest.mark.lab
@pytest.mark.timeout(2400)
def test_molecule_default_scenario(tmp_path: Path) -> None:
    source = snapshot_of_the_sources(tmp_path)
    molecule = Molecule(tmp_path, source, DISTRO)
    try:
        molecule("destroy-leftovers", "destroy")
        molecule("create", "create")
        molecule("prepare", "prepare")

        # check mode on a fresh host: every role runs, reports what it would change, and changes nothing
        out = molecule("check-fresh", "converge", "--", "--check", "--diff")
        changed, failed = recap(out)
        assert failed == 0 and changed > 0, out[-3000:]
        would = changed_tasks(out)
        for role, task in [
            ("docker", "Ensure the distribution's Docker packages are installed"),
            ("pykubelet", "Write the KubeletConfiguration"),
            ("pykubelet", "Install the pykubelet.service unit"),
            ("lab", "Stage the example manifests"),
        ]:
            assert f"{role} : {task}" in would, (
                f"check mode does not report {role} : {task}; it reports {would}"
            )
        assert "+++ after" in out and "LimitNOFILE=1048576" in out, (
            "check mode --diff shows no diff of the unit"
        )
        assert in_instance("test", "!", "-e", "/etc/pykubelet").returncode == 0, (
            "check mode wrote /etc/pykubelet"
        )
        assert in_instance("dpkg", "-s", "docker.io").returncode != 0, "check mode installed docker.io"

        # one role per tag; together they build the whole lab (idempotence below finds nothing left to do)
        for role in ROLES:
            out = molecule(f"tags-{role}", "converge", "--", "--tags", role)
            assert roles_that_ran(out) == {role}, f"--tags {role} ran tasks of {roles_that_ran(out)}"
            assert recap(out)[0] > 0, f"--tags {role} changed nothing on a fresh host"
        molecule("idempotence", "idempotence")

        out = molecule("check-converged", "converge", "--", "--check", "--diff")
        assert recap(out) == (0, 0), f"check mode on the converged host would change {changed_tasks(out)}"

        molecule("verify", "verify", timeout=900)
    finally:
        molecule("destroy", "destroy")
        print("molecule steps: " + ", ".join(molecule.took))


@pytest.mark.lab
@pytest.mark.timeout(1800)
def test_molecule_containerd_scenario(tmp_path: Path) -> None:
    molecule = Molecule(tmp_path, snapshot_of_the_sources(tmp_path), DISTRO, scenario="containerd")
    try:
        molecule("destroy-leftovers", "destroy")
        molecule("create", "create")
        molecule("prepare", "prepare")
        out = molecule("converge", "converge")
        assert "containerd : Write containerd's configuration" in out, "site.yml ran no containerd role"
        molecule("idempotence", "idempotence")
        molecule("verify", "verify", timeout=900)
    finally:
        molecule("destroy", "destroy")
        print("molecule steps: " + ", ".join(molecule.took))
