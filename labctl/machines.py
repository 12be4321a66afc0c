"""The lab's Vagrant machines: which provider, what ``up`` must do first, up, status, the walkthrough, down.

``./lab up`` must work first time on a machine that has nothing: no Vagrant, no Docker engine, old apt
lists. So nothing here asks Vagrant a question before Vagrant and the chosen provider can answer it:
``vagrant status`` stops with "No usable default provider" while no engine runs, so which machines exist
comes from Vagrant's own index (``.vagrant/machines/NAME/PROVIDER/id``), and the provider from what the
host has (a hypervisor that works, else the docker provider). ``up`` then runs a plan of steps (install,
start the engine, build the images, vagrant up) that ``./lab status`` and ``./lab provider`` can describe
before anything is installed.

Everything that touches the outside world (python-vagrant, subprocesses, ``shutil.which``, the environment,
HTTP to the forwarded port, apt's lists) is injected: tests/lab drive this module with fakes, and CI drives
it for real (tests/lab/test_fresh_machine.py: ./lab up, status, walkthrough and down on a pristine machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from labctl import provider
from labctl.apt import LISTS, Apt, require_apt
from labctl.provider import PROVIDERS, ProviderChoice
from labctl.steps import LabError, StepError, Steps, Stream, stream_command

__all__ = ["PROVIDERS", "Lab", "LabError", "Machine", "ProviderChoice", "StepError"]

REPO = Path(__file__).resolve().parents[1]
READ_ONLY_PORT = 10255
VAGRANT_HINT = (
    "install Vagrant from HashiCorp's apt repository (https://developer.hashicorp.com/vagrant/install), "
    "then run ./lab up again"
)


@dataclass(frozen=True)
class Machine:
    name: str
    state: str
    provider: str

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class PlanStep:
    """One step of ``./lab up``: what it does, how long it usually takes, and the action."""

    title: str
    detail: str
    action: Callable[[], None]


def _default_vagrant_factory(**kwargs: Any) -> Any:
    try:
        import vagrant  # python-vagrant: imported late so that ./lab status runs without the venv
    except ImportError as exc:
        raise LabError("python-vagrant is not installed: run ./lab up (it sets up .venv)") from exc
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


class _Stderr:
    """A python-vagrant ``err_cm`` that keeps what vagrant wrote to stderr, for the error message."""

    def __init__(self) -> None:
        # open for the Lab's lifetime: python-vagrant writes to it, tail() reads it after a failure
        self.file: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115

    @contextmanager
    def __call__(self) -> Iterator[IO[str]]:
        yield self.file

    def tail(self, lines: int = 15) -> list[str]:
        self.file.seek(0)
        return self.file.read().splitlines()[-lines:]


class Lab:
    """The machines of this repository's Vagrantfile."""

    def __init__(
        self,
        root: Path = REPO,
        *,
        vagrant_factory: Callable[..., Any] = _default_vagrant_factory,
        run: Callable[..., subprocess.CompletedProcess[Any]] = subprocess.run,
        stream: Stream = stream_command,
        which: Callable[[str], str | None] = shutil.which,
        exists: Callable[[str], bool] = os.path.exists,
        healthz: Callable[[int], str] = _default_healthz,
        env: Mapping[str, str] | None = None,
        out: TextIO | None = None,
        is_root: bool | None = None,
        apt_lists: Path = LISTS,
        clock: Callable[[], float] = time.time,
        platform: str = sys.platform,
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
        self.platform = platform
        self.steps = Steps(self.out, stream)
        self.apt = Apt(self.steps, lists=apt_lists, clock=clock, env=self.env, touch=self._touch)

    @staticmethod
    def _touch(path: Path) -> None:
        os.utime(path)

    # -- what exists, without asking vagrant -----------------------------------------------------------------

    def defined(self) -> list[str]:
        """The Vagrantfile's machine names (lab-1 .. lab-LAB_NODES)."""
        nodes = self.env.get("LAB_NODES", "1")
        if not nodes.isdigit():
            raise LabError(f"LAB_NODES={nodes}: expected a number of machines, such as LAB_NODES=2")
        return [f"lab-{index}" for index in range(1, int(nodes) + 1)]

    def created(self) -> dict[str, str]:
        """Machine name -> provider of the machines Vagrant has created, from its index in .vagrant/."""
        dotfile = self.root / self.env.get("VAGRANT_DOTFILE_PATH", ".vagrant")
        found: dict[str, str] = {}
        for id_file in sorted((dotfile / "machines").glob("*/*/id")):
            try:
                if id_file.read_text().strip():
                    found[id_file.parent.parent.name] = id_file.parent.name
            except OSError:
                continue
        return found

    def missing_packages(self, choice: ProviderChoice) -> list[str]:
        wanted = [] if self._which("vagrant") else ["vagrant"]
        if choice.name == "docker" and not (self._which("docker") and self._which("dockerd")):
            wanted.append("docker.io")
        return wanted

    # -- python-vagrant --------------------------------------------------------------------------------------

    def vagrant(self, stderr: _Stderr | None = None) -> Any:
        """A python-vagrant handle on the repository (quiet; vagrant's stderr kept in ``stderr``)."""
        self.ensure_vagrant(install=False)
        env = dict(self.env)
        providers = set(self.created().values())
        if len(providers) == 1 and "VAGRANT_DEFAULT_PROVIDER" not in env:
            env["VAGRANT_DEFAULT_PROVIDER"] = providers.pop()  # machines not yet created: the same provider
        kwargs: dict[str, Any] = {
            "root": str(self.root),
            "quiet_stdout": True,
            "quiet_stderr": True,
            "env": env,
        }
        if stderr is not None:
            kwargs["err_cm"] = stderr
        return self._vagrant_factory(**kwargs)

    def ensure_vagrant(self, install: bool = True) -> None:
        """Make sure the vagrant command exists; as root on Debian/Ubuntu, install it with apt when asked."""
        if self._which("vagrant"):
            return
        if not install:
            raise LabError("vagrant is not installed: run ./lab up (as root it installs vagrant with apt)")
        self.install(["vagrant"])
        if not self._which("vagrant"):
            raise LabError("apt-get installed vagrant, but there is still no vagrant command on PATH")

    def install(self, packages: Sequence[str]) -> None:
        require_apt(
            self.is_root,
            bool(self._which("apt-get")),
            packages,
            f"{', '.join(packages)} {'is' if len(packages) == 1 else 'are'} not installed.",
        )
        self.apt.install(packages, hints={"vagrant": VAGRANT_HINT})

    def machines(self) -> list[Machine]:
        """Every defined machine and its state; vagrant is asked only once one of them was created."""
        if not self.created():
            return [Machine(name, "not_created", "-") for name in self.defined()]
        stderr = _Stderr()
        try:
            statuses = self.vagrant(stderr).status()
        except subprocess.CalledProcessError as exc:
            tail = "\n".join(f"    {line}" for line in stderr.tail())
            raise LabError(
                f"`vagrant status` failed (exit {exc.returncode}):\n{tail}\nWhat to do: a machine of the "
                "docker provider needs the Docker engine running (scripts/ensure-docker.sh starts it); a VM "
                "needs its hypervisor. Then run ./lab status again"
            ) from None
        return [Machine(s.name, s.state, s.provider) for s in statuses]

    def running(self) -> list[Machine]:
        return [m for m in self.machines() if m.running]

    # -- which provider ----------------------------------------------------------------------------------

    def choose_provider(self, requested: str | None = None) -> ProviderChoice:
        """The provider ``up`` uses (labctl.provider): nothing here needs vagrant or an engine to work."""
        return provider.choose(
            requested,
            env=self.env,
            created=set(self.created().values()),
            which=self._which,
            exists=self._exists,
            platform=self.platform,
            libvirt_plugin=self._libvirt_plugin,
        )

    def _libvirt_plugin(self) -> bool:
        if not self._which("vagrant"):
            return False
        try:
            return any(p.name == "vagrant-libvirt" for p in self.vagrant().plugin_list())
        except Exception:  # a broken plugin setup means: do not pick libvirt
            return False

    # -- what up does --------------------------------------------------------------------------------------

    def plan(self, choice: ProviderChoice) -> list[PlanStep]:
        """The steps of ``./lab up`` on this host, in order; the ones with nothing to do are left out."""
        steps: list[PlanStep] = []
        packages = self.missing_packages(choice)
        if packages:
            steps.append(
                PlanStep(
                    f"install {', '.join(packages)} with apt",
                    "a few minutes on a fresh machine",
                    lambda: self.install(packages),
                )
            )
        if choice.name == "docker":
            # the machine is a container of the lab's systemd image; its nested engine gets the pod images
            # from archives of this engine's (the Vagrantfile's trigger saves them)
            steps.append(PlanStep("start the Docker engine", "scripts/ensure-docker.sh", self._ensure_docker))
            steps.append(
                PlanStep(
                    "build the lab images",
                    "scripts/build-images.sh --with-systemd: a few minutes the first time, then cached",
                    self._build_images,
                )
            )
        names = ", ".join(self.defined())
        steps.append(
            PlanStep(
                f"create and provision {names} with the {choice.name} provider (vagrant up)",
                "2-4 minutes: each machine installs Ansible, then runs ansible/site.yml",
                lambda: self._vagrant_up(choice.name),
            )
        )
        return steps

    def describe_plan(self, choice: ProviderChoice) -> str:
        steps = self.plan(choice)
        return "./lab up would: " + "; ".join(f"{i}) {s.title}" for i, s in enumerate(steps, 1))

    # -- commands ----------------------------------------------------------------------------------------

    def up(self, requested: str | None = None) -> ProviderChoice:
        choice = self.choose_provider(requested)
        packages = self.missing_packages(choice)
        if packages:  # before any step: a user without root learns at once what to install
            require_apt(
                self.is_root,
                bool(self._which("apt-get")),
                packages,
                f"{', '.join(packages)} {'is' if len(packages) == 1 else 'are'} not installed.",
            )
        self.steps.say(f"provider {choice.name} ({choice.reason})")
        plan = self.plan(choice)
        self.steps.plan(len(plan))
        for step in plan:
            self.steps.begin(step.title, step.detail)
            step.action()
            self.steps.end()
        return choice

    def _ensure_docker(self) -> None:
        self.steps.run(
            [str(self.root / "scripts/ensure-docker.sh")],
            cwd=self.root,
            env=self.env,
            hint="start a Docker engine yourself (systemctl start docker, or dockerd as root); a user who is "
            "not root needs to be in the docker group. Then run ./lab up again",
        )

    def _build_images(self) -> None:
        self.steps.run(
            [str(self.root / "scripts/build-images.sh"), "--with-systemd"],
            cwd=self.root,
            env=self.env,
            hint="fix what the lines above name (often: the Debian mirror did not answer), then run ./lab up "
            "again; images built so far are cached",
        )

    def _vagrant_up(self, provider: str) -> None:
        command = ["vagrant", "up", f"--provider={provider}"]
        hint = (
            "fix what the lines above name, then `./lab down` and `./lab up` again (a second `vagrant up` "
            "of an existing machine skips provisioning; `vagrant provision` reruns it)"
        )
        try:
            self.steps.run(command, cwd=self.root, env=self.env, hint=hint)
        except StepError:
            # Nothing was created (the docker provider lists the engine's networks and then inspects each,
            # which races with anything else removing a network meanwhile): one more try is safe. Once a
            # machine exists a second `vagrant up` would skip its provisioning, so then the failure stands.
            if self.created():
                raise
            self.steps.say("vagrant up failed before creating a machine; trying once more")
            self.steps.run(command, cwd=self.root, env=self.env, hint=hint)

    def down(self) -> None:
        if not self.created():
            self.steps.say("no lab machine was created: nothing to destroy")
            return
        self.ensure_vagrant(install=False)
        self.steps.begin("destroy the lab machines (vagrant destroy)")
        self.steps.run(
            ["vagrant", "destroy", "--force"],
            cwd=self.root,
            env=self.env,
            hint="a machine of the docker provider needs the Docker engine running "
            "(scripts/ensure-docker.sh); then run ./lab down again",
        )
        self.steps.end()

    def ports(self, machine: Machine) -> int | None:
        """The host port (on 127.0.0.1) forwarded to the machine's read-only port, if it is known."""
        if machine.provider == "docker":
            container = f"{self.env.get('LAB_PREFIX', 'pykubelet')}-{machine.name}"
            command = ["docker", "port", container, f"{READ_ONLY_PORT}/tcp"]
            result = self._run(command, capture_output=True, text=True, check=False)
        else:
            command = ["vagrant", "port", machine.name, "--guest", str(READ_ONLY_PORT)]
            result = self._run(
                command, capture_output=True, text=True, check=False, cwd=self.root, env=self.env
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
        if not self.created():
            choice = self.choose_provider()
            lines += [f"provider for up: {choice.name} ({choice.reason})", self.describe_plan(choice)]
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
        import yaml  # the venv's; late, so that ./lab status runs on the system python3

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
        if not playbook.exists():
            raise LabError(f"{playbook} is missing: run ./lab walkthrough (it sets up .venv with Ansible)")
        with self.inventory_file(running) as inventory:
            command = [str(playbook), "-i", str(inventory), "ansible/walkthrough.yml", *ansible_args]
            env = {
                **self.env,
                "ANSIBLE_CONFIG": str(self.root / "ansible.cfg"),
                "PATH": f"{playbook.parent}{os.pathsep}{self.env.get('PATH', '')}",
            }
            print(f"lab: walkthrough on {', '.join(m.name for m in running)}", file=self.out, flush=True)
            return self._run(command, cwd=self.root, env=env, check=False).returncode

    def ssh_command(self, name: str | None, command: str | None) -> list[str]:
        self.ensure_vagrant(install=False)
        created = self.created()
        if not created:
            raise LabError("no lab machine was created yet: start one with ./lab up")
        if name and name not in created:
            raise LabError(f"{name} was not created (created: {', '.join(sorted(created))})")
        return ["vagrant", "ssh", *([name] if name else []), *(["-c", command] if command else [])]
