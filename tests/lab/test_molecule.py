"""Molecule's default scenario, for real: create, converge (ansible/site.yml), idempotence, verify (the
walkthrough and the roles' answers to bad input), destroy. Fails, never skips, when it cannot run."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.lab.helpers import REPO, lab_env, run, tool

IMAGE = os.environ.get("MOLECULE_IMAGE", "pykubelet-lab/systemd:bookworm")


@pytest.mark.lab
@pytest.mark.timeout(1800)
def test_molecule_default_scenario(tmp_path: Path) -> None:
    engine = run(["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE])
    if engine.returncode != 0:
        pytest.fail(
            f"cannot run molecule: the instance image {IMAGE} is not in the Docker engine "
            f"({engine.stderr.strip()}); scripts/build-images.sh --with-systemd builds it"
        )
    # the wheel is built from a snapshot: edits to agent/ while this runs would otherwise change it between
    # converge and idempotence
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "agent", source / "agent", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    start = time.monotonic()
    result = run([tool("molecule"), "test"], env=lab_env(LAB_PYKUBELET_SOURCE_DIR=str(source)), timeout=1700)
    took = time.monotonic() - start
    log = tmp_path / "molecule.log"
    log.write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    print(f"molecule test: exit {result.returncode} in {took:.0f}s (log: {log})")
    assert result.returncode == 0, (
        f"molecule test failed (exit {result.returncode}); see {log}:\n{result.stdout[-5000:]}"
    )
    for step in ("converge", "idempotence", "verify"):
        assert f"{step}: Executed: Successful" in result.stdout + result.stderr, f"no {step} step? see {log}"
