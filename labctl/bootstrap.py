"""``python3 -m labctl.bootstrap``: the venv every ``./lab`` command runs in, made with the system's python3.

The venv is the first thing ``./lab up`` needs and the first that fails on a fresh machine (Debian and
Ubuntu ship python3 without ensurepip until python3-venv is installed), and its pip install is a silent
minute or two. So this runs before the venv exists, on the standard library only: it installs python3-venv
with apt when needed (labctl.apt: fresh lists, one retry), then pip installs the project with the extras
asked for, saying how far it is, and stamps the venv so the next command skips all of it until
pyproject.toml changes.

    python3 -m labctl.bootstrap --venv .venv --extras test,lab --probe "pykubelet, ansible, vagrant"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from labctl.apt import Apt, require_apt
from labctl.steps import LabError, StepError, Steps

REPO = Path(__file__).resolve().parents[1]
PIP_HINT = (
    "check that PyPI answers from here (`pip config list` shows the index and the CA bundle pip uses; "
    "/etc/pip.conf), then run the same ./lab command again"
)


def stamps_cover(venv: Path, extras: str, since: float) -> bool:
    """Whether an earlier install with these extras (or more) is newer than ``since`` (pyproject.toml)."""
    wanted = set(filter(None, extras.split(",")))
    for stamp in venv.glob(".installed-*"):
        have = set(stamp.name.removeprefix(".installed-").split("-"))
        if wanted <= have and stamp.stat().st_mtime >= since:
            return True
    return False


class PipProgress:
    """pip's output, summarised: every tenth package collected, then the install; errors as they come."""

    def __init__(self) -> None:
        self.collected = 0

    def __call__(self, line: str) -> str | None:
        if line.startswith("Collecting "):
            self.collected += 1
            if self.collected % 10 == 1:
                name = line.split()[1]
                return f"lab: pip: {self.collected} packages collected so far ({name})"
        elif line.startswith("Installing collected packages:"):
            count = len(line.split(":", 1)[1].split(","))
            return f"lab: pip: {self.collected} packages resolved; installing {count} of them"
        elif line.startswith(("ERROR", "error:")):
            return line
        return None


def _create(venv: Path, steps: Steps, apt: Apt, is_root: bool) -> None:
    """``python3 -m venv``; where ensurepip is missing, python3-venv from apt first (as root)."""
    command = [sys.executable, "-m", "venv", str(venv)]
    steps.say(f"creating the Python venv {venv}")
    try:
        steps.run(command, echo=None, hint="install python3-venv (apt-get install python3-venv), then run "
                  "the same ./lab command again")  # fmt: skip
        return
    except StepError as exc:
        shutil.rmtree(venv, ignore_errors=True)
        if not any("ensurepip" in line for line in exc.tail):
            raise
        require_apt(is_root, bool(shutil.which("apt-get")), ["python3-venv"], "python3 cannot make a venv.")
    apt.install(["python3-venv"])
    steps.run(command, echo=None, hint="python3 -m venv still fails after installing python3-venv: see above")


def ensure(venv: Path, extras: str, probe: str, *, steps: Steps, is_root: bool, root: Path = REPO) -> bool:
    """Make ``venv`` hold the project with ``extras``; True when something was installed."""
    python = venv / "bin" / "python"
    if not os.access(python, os.X_OK):
        _create(venv, steps, Apt(steps), is_root)
    imports = subprocess.run(
        [str(python), "-c", f"import {probe}"], capture_output=True, text=True, check=False
    )
    if imports.returncode == 0 and stamps_cover(venv, extras, (root / "pyproject.toml").stat().st_mtime):
        return False
    steps.plan(0)
    steps.begin(
        f"install pykubelet and its tools into {venv} (pip install -e .[{extras}])",
        "a minute or two the first time",
    )
    steps.run(
        [str(python), "-m", "pip", "install", "--progress-bar", "off", "-e", f".[{extras}]"],
        cwd=root,
        echo=PipProgress(),
        hint=PIP_HINT,
    )
    steps.end()
    (venv / f".installed-{extras.replace(',', '-')}").touch()
    return True


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m labctl.bootstrap", description=__doc__.split("\n")[0])
    p.add_argument("--venv", type=Path, default=REPO / ".venv")
    p.add_argument("--extras", default="lab", help="the project's extras, comma-separated (test,lab)")
    p.add_argument("--probe", default="pykubelet", help="modules the venv must import, comma-separated")
    args = p.parse_args(argv)
    try:
        ensure(args.venv, args.extras, args.probe, steps=Steps(sys.stdout), is_root=os.geteuid() == 0)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
