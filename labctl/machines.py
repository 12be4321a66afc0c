"""The lab's Vagrant machines, through python-vagrant: which provider, up, status, the walkthrough, down.

Everything that touches the outside world (python-vagrant, subprocesses, ``shutil.which``, the environment,
HTTP to the forwarded port) is injected, so the unit tests in tests/lab drive this module with fakes and CI
drives it for real (tests/lab/test_vagrant_docker.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

REPO = Path(__file__).resolve().parents[1]
READ_ONLY_PORT = 10255
PROVIDERS = ("virtualbox", "libvirt", "docker")
LIBVIRT_SOCKET = "/var/run/libvirt/libvirt-sock"


class LabError(Exception):
    """Something the user must fix; the message says what and how."""


@dataclass(frozen=True)
class Machine:
    name: str
    state: str
    provider: str

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class ProviderChoice:
    name: str
    reason: str


def _default_vagrant_factory(**kwargs: Any) -> Any:
    import vagrant  # python-vagrant: imported late so `./lab` can say what is missing

    return vagrant.Vagrant(**kwargs)


def _default_healthz(port: int) -> str:
    """What 127.0.0.1:PORT/healthz answers, or why it did not (never raises)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return response.read().decode(errors="replace").strip() or "(empty)"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (OSError, urllib.error.URLError) as exc:
        return f"no answer ({getattr(exc, 'reason', exc)})"


class Lab:
    """The machines of this repository's Vagrantfile."""

    def __init__(
        self,
        root: Path = REPO,
        *,
        vagrant_factory: Callable[..., Any] = _default_vagrant_factory,
        run: Callable[..., subprocess.CompletedProcess[Any]] = subprocess.run,
        which: Callable[[str], str | None] = shutil.which,
        exists: Callable[[str], bool] = os.path.exists,
        healthz: Callable[[int], str] = _default_healthz,
        env: Mapping[str, str] | None = None,
        out: TextIO | None = None,
        is_root: bool | None = None,
    ) -> None:
        self.root = root
        self._vagrant_factory = vagrant_factory
        self._run = run
        self._which = which
        self._exists = exists
        self._healthz = healthz
        self.env = dict(os.environ if env is None else env)
        self.out = out or sys.stdout
        self.is_root = (os.geteuid() == 0) if is_root is None else is_root

    # -- python-vagrant ----------------------------------------------------------------------------------

    def vagrant(self, quiet: bool = True) -> Any:
        """A python-vagrant handle on the repository; ``quiet=False`` lets vagrant print to the terminal."""
        self.ensure_vagrant(install=False)
        return self._vagrant_factory(
            root=str(self.root), quiet_stdout=quiet, quiet_stderr=quiet, env=self.env
        )

    def ensure_vagrant(self, install: bool = True) -> None:
        """Make sure the vagrant command exists; as root on Debian/Ubuntu, install it with apt when asked."""
        if self._which("vagrant"):
            return
        if not install:
            raise LabError("vagrant is not installed: run ./lab setup (as root: apt-get install vagrant)")
        if not (self.is_root and self._which("apt-get")):
            raise LabError(
                "vagrant is not installed. Install it from your distribution (apt-get install vagrant) "
                "or from https://developer.hashicorp.com/vagrant/install, then run ./lab again"
            )
        print("lab: installing vagrant with apt", file=self.out)
        env = {**self.env, "DEBIAN_FRONTEND": "noninteractive"}
        policy = self._run(
            ["apt-cache", "policy", "vagrant"], capture_output=True, text=True, check=False, env=env
        )
        if "Candidate: (none)" in policy.stdout or "Candidate:" not in policy.stdout:
            self._run(["apt-get", "update", "-qq"], check=True, env=env)
        self._run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "vagrant"], check=True, env=env
        )
        if not self._which("vagrant"):
            raise LabError("apt-get installed vagrant, but there is still no vagrant command on PATH")

    def machines(self) -> list[Machine]:
        return [Machine(s.name, s.state, s.provider) for s in self.vagrant().status()]

    def running(self) -> list[Machine]:
        return [m for m in self.machines() if m.running]

    # -- which provider ----------------------------------------------------------------------------------

    def choose_provider(self, requested: str | None = None) -> ProviderChoice:
        """VirtualBox or libvirt where there is a hypervisor, the docker provider otherwise.

        An explicit choice (``--provider``, ``LAB_PROVIDER``, ``VAGRANT_DEFAULT_PROVIDER``) wins; machines
        that already exist keep the provider they were created with.
        """
        for source, value in (
            ("--provider", requested),
            ("LAB_PROVIDER", self.env.get("LAB_PROVIDER")),
            ("VAGRANT_DEFAULT_PROVIDER", self.env.get("VAGRANT_DEFAULT_PROVIDER")),
        ):
            if value:
                if value not in PROVIDERS:
                    raise LabError(f"{source}={value}: the lab knows the providers {', '.join(PROVIDERS)}")
                return ProviderChoice(value, f"asked for with {source}")
        if self._which("vagrant"):
            created = sorted({m.provider for m in self.machines() if m.state != "not_created"})
            if len(created) == 1:
                return ProviderChoice(created[0], "the lab's machines were created with it")
        if self._which("VBoxManage"):
            return ProviderChoice("virtualbox", "VirtualBox is installed (VBoxManage)")
        if self._which("virsh") and self._exists(LIBVIRT_SOCKET) and self._libvirt_plugin():
            return ProviderChoice("libvirt", "libvirt answers and the vagrant-libvirt plugin is installed")
        return ProviderChoice(
            "docker", "no VirtualBox or libvirt here: a systemd container on the Docker engine"
        )

    def _libvirt_plugin(self) -> bool:
        try:
            return any(p.name == "vagrant-libvirt" for p in self.vagrant().plugin_list())
        except Exception:  # a broken plugin setup means: do not pick libvirt
            return False

    # -- commands ----------------------------------------------------------------------------------------

    def up(self, requested: str | None = None) -> ProviderChoice:
        self.ensure_vagrant()
        choice = self.choose_provider(requested)
        print(f"lab: provider {choice.name} ({choice.reason})", file=self.out)
        if choice.name == "docker":
            # the machine is a container of the lab's systemd image; its nested engine gets the pod images
            # from archives of this engine's (the Vagrantfile's trigger saves them)
            self._script("scripts/ensure-docker.sh")
            self._script("scripts/build-images.sh", "--with-systemd")
        handle = self.vagrant(quiet=False)
        try:
            handle.up(provider=choice.name)
        except subprocess.CalledProcessError:
            # Nothing was created (the docker provider lists the engine's networks and then inspects each,
            # which races with anything else removing a network meanwhile): one more try is safe. Once a
            # machine exists a second `vagrant up` would skip its provisioning, so then the failure stands.
            if any(m.state != "not_created" for m in self.machines()):
                raise
            print("lab: vagrant up failed before creating a machine; trying once more", file=self.out)
            handle.up(provider=choice.name)
        return choice

    def down(self) -> None:
        self.vagrant(quiet=False).destroy()

    def ports(self, machine: Machine) -> int | None:
        """The host port (on 127.0.0.1) forwarded to the machine's read-only port, if it is known."""
        if machine.provider == "docker":
            container = f"{self.env.get('LAB_PREFIX', 'pykubelet')}-{machine.name}"
            result = self._run(
                ["docker", "port", container, f"{READ_ONLY_PORT}/tcp"],
                capture_output=True,
                text=True,
                check=False,
            )
        else:
            result = self._run(
                ["vagrant", "port", machine.name, "--guest", str(READ_ONLY_PORT)],
                capture_output=True,
                text=True,
                check=False,
                cwd=self.root,
                env=self.env,
            )
        for line in result.stdout.splitlines():
            port = line.strip().rsplit(":", 1)[-1]
            if port.isdigit():
                return int(port)
        return None

    def status_lines(self) -> list[str]:
        machines = self.machines()
        if not machines:
            return ["no machine is defined (LAB_NODES=0?)"]
        lines = [f"{'MACHINE':<10} {'STATE':<12} {'PROVIDER':<11} READ-ONLY PORT"]
        for machine in machines:
            where = "-"
            if machine.running:
                port = self.ports(machine)
                where = (
                    f"http://127.0.0.1:{port}/healthz -> {self._healthz(port)}" if port else "(not forwarded)"
                )
            lines.append(f"{machine.name:<10} {machine.state:<12} {machine.provider:<11} {where}")
        return lines

    def inventory(self, machines: Sequence[Machine]) -> dict[str, Any]:
        """An Ansible inventory of the running machines, from `vagrant ssh-config` (the `lab` group)."""
        handle = self.vagrant()
        hosts: dict[str, dict[str, Any]] = {}
        for machine in machines:
            conf = handle.conf(vm_name=machine.name)
            hosts[machine.name] = {
                "ansible_host": conf["HostName"],
                "ansible_port": int(conf["Port"]),
                "ansible_user": conf["User"],
                "ansible_ssh_private_key_file": conf["IdentityFile"].strip('"'),
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            }
        return {"lab": {"hosts": hosts}}

    @contextmanager
    def inventory_file(self, machines: Sequence[Machine]) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="labctl-") as tmp:
            path = Path(tmp) / "inventory.yml"
            path.write_text(yaml.safe_dump(self.inventory(machines), sort_keys=False))
            yield path

    def walkthrough(self, names: Sequence[str] = (), ansible_args: Sequence[str] = ()) -> int:
        """Run ansible/walkthrough.yml against the running machines (all, or ``names``) over SSH."""
        running = self.running()
        if names:
            unknown = sorted(set(names) - {m.name for m in running})
            if unknown:
                raise LabError(f"not running: {', '.join(unknown)} (./lab status shows the machines)")
            running = [m for m in running if m.name in names]
        if not running:
            raise LabError("no lab machine is running: start one with ./lab up")
        playbook = Path(sys.executable).parent / "ansible-playbook"
        with self.inventory_file(running) as inventory:
            command = [str(playbook), "-i", str(inventory), "ansible/walkthrough.yml", *ansible_args]
            env = {
                **self.env,
                "ANSIBLE_CONFIG": str(self.root / "ansible.cfg"),
                "PATH": f"{playbook.parent}{os.pathsep}{self.env.get('PATH', '')}",
            }
            print(f"lab: walkthrough on {', '.join(m.name for m in running)}", file=self.out)
            return self._run(command, cwd=self.root, env=env, check=False).returncode

    def ssh_command(self, name: str | None, command: str | None) -> list[str]:
        self.ensure_vagrant(install=False)
        return ["vagrant", "ssh", *([name] if name else []), *(["-c", command] if command else [])]

    def _script(self, script: str, *args: str) -> None:
        result = self._run([str(self.root / script), *args], cwd=self.root, env=self.env, check=False)
        if result.returncode != 0:
            raise LabError(
                f"{script} {' '.join(args)} failed (exit {result.returncode}); see its output above"
            )
