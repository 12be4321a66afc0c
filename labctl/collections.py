"""The two Ansible collections Molecule's docker driver needs, without ansible-galaxy.

galaxy.ansible.com is not reachable everywhere this lab runs (its CI, for one), and the collections are not
on PyPI by themselves. The ``ansible`` package on PyPI bundles them, but installs ~470 MB of collections: this
module downloads that one wheel and extracts only community.docker and ansible.posix into the venv's
site-packages, where ansible-core finds them exactly as if ``ansible`` were installed (2.9 MB).
Users who can reach galaxy may instead run ``ansible-galaxy collection install -r ansible/requirements.yml``
(same versions).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

# The ansible release whose bundled collections are taken, and the versions it bundles
# (ansible/requirements.yml pins the same for ansible-galaxy).
ANSIBLE_RELEASE = "12.3.0"
COLLECTIONS = {"community.docker": "4.8.5", "ansible.posix": "2.1.0"}


class CollectionsError(Exception):
    """The collections could not be installed; the message says why."""


def _prefix(name: str) -> str:
    namespace, collection = name.split(".")
    return f"ansible_collections/{namespace}/{collection}/"


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def missing(target: Path | None = None) -> list[str]:
    """The collections that are not in ``target`` (default: this interpreter's site-packages)."""
    base = target or site_packages()
    return [name for name in COLLECTIONS if not (base / _prefix(name) / "MANIFEST.json").is_file()]


def extract(wheel: Path, target: Path, names: list[str]) -> int:
    """Extract the ``names`` collections from an ``ansible`` wheel into ``target``; returns the file count."""
    prefixes = tuple(_prefix(name) for name in names)
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefixes)]
        found = {p for p in prefixes if any(m.startswith(p) for m in members)}
        if len(found) != len(prefixes):
            absent = sorted(set(prefixes) - found)
            raise CollectionsError(f"{wheel.name} does not contain {', '.join(absent)}")
        archive.extractall(target, members)
    return len(members)


def ensure(target: Path | None = None, quiet: bool = False) -> list[str]:
    """Install the missing collections into ``target``; returns the ones installed (empty: nothing to do)."""
    base = target or site_packages()
    names = missing(base)
    if not names:
        return []
    with tempfile.TemporaryDirectory(prefix="labctl-ansible-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            tmp,
            f"ansible=={ANSIBLE_RELEASE}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CollectionsError(
                f"pip could not download ansible=={ANSIBLE_RELEASE} (to take {', '.join(names)} from it):\n"
                + (result.stderr.strip() or result.stdout.strip())
            )
        wheels = glob.glob(os.path.join(tmp, f"ansible-{ANSIBLE_RELEASE}-*.whl"))
        if not wheels:
            raise CollectionsError(f"pip download left no ansible-{ANSIBLE_RELEASE} wheel in {tmp}")
        count = extract(Path(wheels[0]), base, names)
    if not quiet:
        versions = ", ".join(f"{name} {COLLECTIONS[name]}" for name in names)
        print(
            f"lab: installed {versions} ({count} files) from the ansible {ANSIBLE_RELEASE} wheel into {base}"
        )
    return names
