"""Fakes for labctl's tests: python-vagrant, subprocess.run, the streaming runner, a Lab wired to them."""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from labctl.machines import Lab

Status = namedtuple("Status", "name state provider")
Plugin = namedtuple("Plugin", "name version system")


class FakeVagrant:
    """Stands in for vagrant.Vagrant: status, conf, plugin_list answer from its fields; counts status()."""

    instances: list[FakeVagrant] = []
    status_calls = 0

    def __init__(self, statuses: list[Status], plugins: list[Plugin] | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.statuses = statuses
        self.plugins = plugins or []
        FakeVagrant.instances.append(self)

    def status(self) -> list[Status]:
        FakeVagrant.status_calls += 1
        return self.statuses

    def plugin_list(self) -> list[Plugin]:
        return self.plugins

    def conf(self, vm_name: str | None = None) -> dict[str, str]:
        port = {"lab-1": "2222", "lab-2": "2200"}[vm_name or "lab-1"]
        return {
            "HostName": "127.0.0.1",
            "Port": port,
            "User": "vagrant",
            "IdentityFile": f'"/repo/.vagrant/machines/{vm_name}/docker/private_key"',
        }


class FakeRun:
    """Stands in for subprocess.run (short commands): records them, answers from a table of prefixes."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, str]] | None = None) -> None:
        self.answers = answers or {}
        self.commands: list[list[str]] = []
        self.kwargs: list[dict[str, Any]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        self.kwargs.append(kwargs)
        for prefix, (code, out) in self.answers.items():
            if tuple(command[: len(prefix)]) == prefix:
                return subprocess.CompletedProcess(command, code, out, "")
        return subprocess.CompletedProcess(command, 0, "", "")


Answer = tuple[int, list[str]]


class FakeStream:
    """Stands in for labctl.steps.stream_command: records commands; answers are queued per command prefix.

    ``effects`` run after a command "succeeds", e.g. apt-get install putting vagrant on PATH.
    """

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        self.envs: list[dict[str, str]] = []  # the environment each command was given
        self.answers: dict[tuple[str, ...], list[Answer]] = {}
        self.effects: dict[tuple[str, ...], Callable[[list[str]], None]] = {}

    def answer(self, prefix: Sequence[str], *answers: Answer) -> None:
        self.answers[tuple(prefix)] = list(answers)

    def __call__(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None,
        env: Mapping[str, str] | None,
        on_line: Callable[[str], None],
        on_idle: Callable[[float], None],
    ) -> int:
        command = list(command)
        if command[:2] == ["sh", "-c"]:  # a wrapper (apt's status fd): the command it runs
            command = command[4:]
        self.commands.append(command)
        self.envs.append(dict(env or {}))
        code, lines = 0, []
        for prefix, queued in self.answers.items():
            if tuple(command[: len(prefix)]) == prefix and queued:
                code, lines = queued.pop(0) if len(queued) > 1 else queued[0]
                break
        for line in lines:
            on_line(line)
        if code == 0:
            for prefix, effect in self.effects.items():
                if tuple(command[: len(prefix)]) == prefix:
                    effect(command)
        return code

    def names(self) -> list[str]:
        """The commands, shortened: scripts by file name, others by their first words."""
        return [
            " ".join([Path(c[0]).name, *c[1:2]]) if c[0].startswith("/") else " ".join(c[:2])
            for c in self.commands
        ]


def make_lab(
    tmp_path: Path,
    statuses: list[Status] | None = None,
    *,
    tools: set[str] = frozenset({"vagrant", "docker", "dockerd", "apt-get"}),
    env: dict[str, str] | None = None,
    plugins: list[Plugin] | None = None,
    run: FakeRun | None = None,
    paths: set[str] = frozenset(),
    is_root: bool = True,
    healthz: str = "ok",
    lists_age: float | None = 0.0,
) -> tuple[Lab, FakeStream, io.StringIO]:
    """A Lab on ``tmp_path``: Vagrant's index holds the created ``statuses``; apt lists ``lists_age`` old."""
    FakeVagrant.instances.clear()
    FakeVagrant.status_calls = 0
    statuses = statuses if statuses is not None else [Status("lab-1", "not_created", "docker")]
    for status in statuses:
        if status.state != "not_created":
            index = tmp_path / ".vagrant/machines" / status.name / status.provider
            index.mkdir(parents=True, exist_ok=True)
            (index / "id").write_text("0123abcd")
    lists = tmp_path / "apt-lists"
    lists.mkdir()
    if lists_age is not None:
        (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").write_text("")
        stamp = time.time() - lists_age
        os.utime(lists, (stamp, stamp))
    out = io.StringIO()
    installed = set(tools)
    stream = FakeStream()

    def apt_installs(command: list[str]) -> None:
        names = {"vagrant": ["vagrant"], "docker.io": ["docker", "dockerd"]}
        installed.update(tool for package in command if package in names for tool in names[package])

    stream.effects[("apt-get", "install")] = apt_installs
    lab = Lab(
        tmp_path,
        vagrant_factory=lambda **kw: FakeVagrant(statuses, plugins, **kw),
        run=run or FakeRun(),
        stream=stream,
        which=lambda name: f"/usr/bin/{name}" if name in installed else None,
        exists=lambda path: path in paths,
        healthz=lambda port: healthz,
        env={"PATH": "/usr/bin", **(env or {})},
        out=out,
        is_root=is_root,
        apt_lists=lists,
        platform="linux",
    )
    return lab, stream, out


LIBVIRT = {"/var/run/libvirt/libvirt-sock", "/dev/kvm"}
LIBVIRT_PLUGIN = [Plugin("vagrant-libvirt", "0.11.2", True)]
