"""apt, first time right: fresh package lists, progress a person can follow, one retry that fixes stale lists.

A fresh machine often has package lists that are weeks old (an image built long ago) or none at all. Old
lists name package versions the mirror has since replaced, so ``apt-get install`` fails with 404s or
"held broken packages", and a new user cannot know that ``apt-get update`` is the cure. So: refresh the
lists when they are missing or older than a day (the mtime of /var/lib/apt/lists, which this module also
sets after each refresh), and when an install fails anyway, refresh once and try once more.
Standard library only: the venv's bootstrap uses it before the venv exists.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from labctl.steps import LabError, StepError, Steps

LISTS = Path("/var/lib/apt/lists")
MAX_AGE_SECONDS = 24 * 3600
LOCK_WAIT_SECONDS = 300  # a fresh Ubuntu runs unattended-upgrades at boot and holds the dpkg lock meanwhile
_STATUS = re.compile(r"^(dlstatus|pmstatus):[^:]*:([0-9.]+):(.*)$")
_MISSING = re.compile(r"Unable to locate package (\S+)|Package '?(\S+?)'? has no installation candidate")

GENERIC_HINT = (
    "check the apt sources (/etc/apt/sources.list and /etc/apt/sources.list.d/) and that the mirror answers: "
    "`apt-get update` shows which one fails; then run the same ./lab command again"
)


def stale_reason(lists: Path, now: float) -> str | None:
    """Why the package lists need a refresh before installing, or None when they are fresh enough."""
    try:
        names = [p.name for p in lists.iterdir()]
        mtime = lists.stat().st_mtime
    except OSError:
        return f"apt has no package lists ({lists} is missing)"
    if not any("_Packages" in name for name in names):
        return "apt has no package lists yet"
    age = now - mtime
    if age > MAX_AGE_SECONDS:
        days = age / 86400
        return (
            f"the package lists are {days:.0f} days old" if days >= 2 else "the package lists are a day old"
        )
    return None


class ProgressEcho:
    """Turns apt's machine-readable status lines into one line per tenth of the way, plus its errors."""

    def __init__(self) -> None:
        self.phase = ""
        self.shown = -1

    def __call__(self, line: str) -> str | None:
        match = _STATUS.match(line)
        if not match:
            return line if line.startswith(("E:", "W:")) else None
        phase = "downloading" if match.group(1) == "dlstatus" else "installing"
        percent = float(match.group(2))
        bucket = int(percent // 10)
        if phase != self.phase:
            self.phase, self.shown = phase, -1
        if bucket <= self.shown:
            return None
        self.shown = bucket
        return f"lab: apt: {phase} {percent:3.0f}% ({match.group(3).strip()})"


class Apt:
    """Installs Debian/Ubuntu packages as part of a :class:`~labctl.steps.Steps` step."""

    def __init__(
        self,
        steps: Steps,
        *,
        lists: Path = LISTS,
        clock: Callable[[], float] = time.time,
        touch: Callable[[Path], None] = os.utime,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.steps = steps
        self.lists = lists
        self.clock = clock
        self.touch = touch
        self.env = {**(os.environ if env is None else env), "DEBIAN_FRONTEND": "noninteractive"}

    def _options(self) -> list[str]:
        return ["-o", f"DPkg::Lock::Timeout={LOCK_WAIT_SECONDS}"]

    def update(self, why: str) -> None:
        self.steps.say(f"apt: refreshing the package lists (apt-get update), because {why}")
        started = self.clock()
        self.steps.run(
            ["apt-get", "update", "-q", *self._options()],
            env=self.env,
            echo=lambda line: line if line.startswith(("E:", "W:", "Err:")) else None,
            hint=GENERIC_HINT,
            step=f"{self.steps.title or 'apt'}: apt-get update",
        )
        self.touch(self.lists)  # apt leaves the directory alone when nothing changed: mark "checked now"
        self.steps.say(f"apt: package lists refreshed in {self.clock() - started:.0f}s")

    def install(self, packages: Sequence[str], hints: Mapping[str, str] | None = None) -> None:
        """Install ``packages`` (no recommends); refresh stale lists first, and retry once after a refresh."""
        hints = hints or {}
        why = stale_reason(self.lists, self.clock())
        if why:
            self.update(why)
        try:
            self._install(packages, hints)
        except StepError:
            if why:  # the lists were fresh from this very run: another refresh will not help
                raise
            self.steps.say(
                "apt: the install failed; the package lists may name versions the mirror no longer has: "
                "refreshing them and trying once more"
            )
            self.update("the install failed")
            self._install(packages, hints)

    def _install(self, packages: Sequence[str], hints: Mapping[str, str]) -> None:
        command = [
            "apt-get", "install", "-y", "-q", "--no-install-recommends",
            "-o", "APT::Status-Fd=3", "-o", "Dpkg::Use-Pty=0", *self._options(), *packages,
        ]  # fmt: skip
        try:
            self.steps.run(
                # The progress records on fd 3, a copy of stdout: dpkg closes the status fd in maintainer
                # scripts, and with fd 1 that breaks every Perl one (adduser: "Unable to flush stdout").
                ["sh", "-c", 'exec 3>&1 && exec "$@"', "sh", *command],
                display=command,
                env=self.env,
                echo=ProgressEcho(),
                noise=lambda line: bool(_STATUS.match(line)),
                hint=GENERIC_HINT,
                step=f"{self.steps.title or 'apt'}: apt-get install",
            )
        except StepError as exc:
            raise StepError(exc.step, exc.command, exc.code, exc.tail, _hint(exc.tail, hints)) from None


def _hint(tail: Sequence[str], hints: Mapping[str, str]) -> str:
    """The package-specific advice when apt does not know a package; the generic one otherwise."""
    if any("post-installation script" in line or "dpkg returned an error" in line for line in tail):
        return (
            "a package's set-up script failed (see its lines above); fix what they name, run "
            "`dpkg --configure -a`, then run the same ./lab command again"
        )
    for line in tail:
        match = _MISSING.search(line)
        if match:
            name = match.group(1) or match.group(2)
            return hints.get(name) or (
                f"this system's apt sources have no package {name}: install it another way, "
                "then run the same ./lab command again"
            )
    return GENERIC_HINT


def require_apt(is_root: bool, has_apt: bool, packages: Sequence[str], what: str) -> None:
    """Installing needs root and apt-get: say so up front, with the command a person would type."""
    if not has_apt:
        raise LabError(
            f"{what} This system has no apt-get: install {', '.join(packages)} yourself, "
            "then run the same ./lab command again"
        )
    if not is_root:
        raise LabError(
            f"{what} Install it from your distribution (sudo apt-get install {' '.join(packages)}) or run "
            "this ./lab command as root (sudo), which installs it with apt"
        )
