"""Shared helpers of the lab's tests: the repository, the venv's tools, a subprocess runner that shows output.

tests/lab holds three kinds of test:
- unit tests of labctl with python-vagrant, subprocesses and the environment faked (fast);
- checks of the Ansible content that need no machine: linters, syntax, argument specs, the roles' preflight
  failures run against this host with read-only tasks only (seconds);
- the real runs, marked ``lab``: Molecule's default scenario and the Vagrant docker-provider lab (minutes).
  They fail, never skip, when something they need is missing: ``./lab test`` installs all of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A tool of the venv pytest runs in (ansible-playbook, molecule, ...); fails clearly if missing."""
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not in {VENV_BIN}: install the lab extra (./lab setup)")
    return str(path)


def lab_env(**extra: str) -> dict[str, str]:
    """The environment for the lab's tools: the venv first on PATH (molecule runs ansible-playbook)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PY_COLORS"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(extra)
    return env


def run(
    command: Sequence[str],
    *,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; on timeout, fail with what it printed so far."""
    try:
        return subprocess.run(
            list(command),
            cwd=cwd,
            env=env or lab_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"")[-4000:] if isinstance(exc.stdout, bytes) else (exc.stdout or "")[-4000:]
        pytest.fail(f"{' '.join(command)} did not finish within {timeout:g}s; last output:\n{out}")


def output(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"exit {result.returncode}\n--- stdout ---\n{result.stdout[-6000:]}\n"
        f"--- stderr ---\n{result.stderr[-4000:]}"
    )
