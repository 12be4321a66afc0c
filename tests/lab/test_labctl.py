"""labctl with python-vagrant, subprocesses and the environment faked: provider choice, commands, errors."""

from __future__ import annotations

import io
import subprocess
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
import yaml
from labctl import cli
from labctl.machines import Lab, LabError, Machine, ProviderChoice

Status = namedtuple("Status", "name state provider")
Plugin = namedtuple("Plugin", "name version system")


class FakeVagrant:
    """Stands in for vagrant.Vagrant: records calls, answers status/conf/plugin_list from its fields."""

    instances: list[FakeVagrant] = []

    def __init__(self, statuses: list[Status], plugins: list[Plugin] | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.statuses = statuses
        self.plugins = plugins or []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        FakeVagrant.instances.append(self)

    def status(self) -> list[Status]:
        return self.statuses

    def plugin_list(self) -> list[Plugin]:
        return self.plugins

    def up(self, **kwargs: Any) -> None:
        self.calls.append(("up", kwargs))

    def destroy(self, **kwargs: Any) -> None:
        self.calls.append(("destroy", kwargs))

    def conf(self, vm_name: str | None = None) -> dict[str, str]:
        port = {"lab-1": "2222", "lab-2": "2200"}[vm_name or "lab-1"]
        return {
            "HostName": "127.0.0.1",
            "Port": port,
            "User": "vagrant",
            "IdentityFile": f'"/repo/.vagrant/machines/{vm_name}/docker/private_key"',
        }


class FakeRun:
    """Stands in for subprocess.run: records commands, answers from a table of prefixes."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, str]] | None = None) -> None:
        self.answers = answers or {}
        self.commands: list[list[str]] = []
        self.kwargs: list[dict[str, Any]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        self.kwargs.append(kwargs)
        for prefix, (code, out) in self.answers.items():
            if tuple(command[: len(prefix)]) == prefix:
                if kwargs.get("check") and code:
                    raise subprocess.CalledProcessError(code, command)
                return subprocess.CompletedProcess(command, code, out, "")
        return subprocess.CompletedProcess(command, 0, "", "")


def make_lab(
    tmp_path: Path,
    statuses: list[Status] | None = None,
    *,
    tools: set[str] = frozenset({"vagrant", "docker"}),
    env: dict[str, str] | None = None,
    plugins: list[Plugin] | None = None,
    run: FakeRun | None = None,
    exists: bool = False,
    is_root: bool = True,
    healthz: str = "ok",
) -> tuple[Lab, FakeRun, io.StringIO]:
    FakeVagrant.instances.clear()
    out = io.StringIO()
    fake_run = run or FakeRun()
    installed = set(tools)

    def which(name: str) -> str | None:
        return f"/usr/bin/{name}" if name in installed else None

    lab = Lab(
        tmp_path,
        vagrant_factory=lambda **kw: FakeVagrant(
            statuses if statuses is not None else [Status("lab-1", "not_created", "docker")], plugins, **kw
        ),
        run=fake_run,
        which=which,
        exists=lambda _path: exists,
        healthz=lambda port: healthz,
        env={"PATH": "/usr/bin", **(env or {})},
        out=out,
        is_root=is_root,
    )
    lab._installed = installed  # type: ignore[attr-defined]  # tests add tools "installed" by apt
    return lab, fake_run, out


# -- provider choice -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tools", "plugins", "socket", "expected"),
    [
        pytest.param({"vagrant", "VBoxManage", "virsh"}, [], True, "virtualbox", id="virtualbox-first"),
        pytest.param(
            {"vagrant", "virsh"}, [Plugin("vagrant-libvirt", "0.11.2", True)], True, "libvirt", id="libvirt"
        ),
        pytest.param({"vagrant", "virsh"}, [], True, "docker", id="libvirt-without-plugin"),
        pytest.param(
            {"vagrant", "virsh"},
            [Plugin("vagrant-libvirt", "0.11.2", True)],
            False,
            "docker",
            id="no-libvirtd",
        ),
        pytest.param({"vagrant"}, [], False, "docker", id="no-hypervisor"),
    ],
)
def test_provider_follows_what_the_host_has(
    tmp_path: Path, tools: set[str], plugins: list[Plugin], socket: bool, expected: str
) -> None:
    lab, _, _ = make_lab(tmp_path, tools=tools, plugins=plugins, exists=socket)
    assert lab.choose_provider().name == expected


def test_explicit_provider_wins_over_the_host(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, tools={"vagrant", "VBoxManage"}, env={"LAB_PROVIDER": "docker"})
    choice = lab.choose_provider()
    assert (choice.name, choice.reason) == ("docker", "asked for with LAB_PROVIDER")
    assert lab.choose_provider("libvirt").name == "libvirt"


def test_unknown_provider_is_refused_with_the_choices(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, env={"VAGRANT_DEFAULT_PROVIDER": "hyperv"})
    with pytest.raises(LabError, match=r"VAGRANT_DEFAULT_PROVIDER=hyperv.*virtualbox, libvirt, docker"):
        lab.choose_provider()


def test_existing_machines_keep_their_provider(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")], tools={"vagrant", "VBoxManage"})
    assert lab.choose_provider().name == "docker"


# -- up / down -----------------------------------------------------------------------------------------------


def test_up_with_docker_prepares_the_engine_and_images_then_runs_vagrant_up(tmp_path: Path) -> None:
    lab, run, _ = make_lab(tmp_path)
    lab.up()
    scripts = [Path(c[0]).name + " " + " ".join(c[1:]) for c in run.commands]
    assert scripts == ["ensure-docker.sh ", "build-images.sh --with-systemd"]
    vagrant = FakeVagrant.instances[-1]
    assert vagrant.calls == [("up", {"provider": "docker"})]
    assert vagrant.kwargs["root"] == str(tmp_path)
    assert vagrant.kwargs["quiet_stdout"] is False  # vagrant's progress reaches the terminal


def test_up_tries_once_more_when_nothing_was_created(tmp_path: Path) -> None:
    lab, _, out = make_lab(tmp_path)
    failures = iter([subprocess.CalledProcessError(1, ["vagrant", "up"])])
    original_up = FakeVagrant.up

    def flaky_up(self: FakeVagrant, **kwargs: Any) -> None:
        for failure in failures:
            raise failure
        original_up(self, **kwargs)

    FakeVagrant.up = flaky_up  # type: ignore[method-assign]
    try:
        lab.up()
    finally:
        FakeVagrant.up = original_up  # type: ignore[method-assign]
    assert "trying once more" in out.getvalue()
    assert [c for v in FakeVagrant.instances for c in v.calls] == [("up", {"provider": "docker"})]


def test_up_does_not_retry_once_a_machine_exists(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])
    lab.choose_provider = lambda requested=None: ProviderChoice("docker", "test")  # type: ignore[method-assign]

    def failing_up(self: FakeVagrant, **kwargs: Any) -> None:
        self.calls.append(("up", kwargs))
        raise subprocess.CalledProcessError(1, ["vagrant", "up"])

    original_up = FakeVagrant.up
    FakeVagrant.up = failing_up  # type: ignore[method-assign]
    try:
        with pytest.raises(subprocess.CalledProcessError):
            lab.up()
    finally:
        FakeVagrant.up = original_up  # type: ignore[method-assign]
    assert [c for v in FakeVagrant.instances for c in v.calls] == [("up", {"provider": "docker"})]  # once


def test_up_with_a_hypervisor_does_not_touch_docker(tmp_path: Path) -> None:
    lab, run, out = make_lab(tmp_path, tools={"vagrant", "VBoxManage"})
    lab.up()
    assert run.commands == []
    assert FakeVagrant.instances[-1].calls == [("up", {"provider": "virtualbox"})]
    assert "provider virtualbox (VirtualBox is installed (VBoxManage))" in out.getvalue()


def test_a_failing_setup_script_stops_up_with_its_name(tmp_path: Path) -> None:
    run = FakeRun({(str(tmp_path / "scripts/build-images.sh"),): (1, "")})
    lab, _, _ = make_lab(tmp_path, run=run)
    with pytest.raises(LabError, match=r"scripts/build-images.sh --with-systemd failed \(exit 1\)"):
        lab.up()
    assert all(call[0] != "up" for v in FakeVagrant.instances for call in v.calls)


def test_up_installs_vagrant_with_apt_as_root(tmp_path: Path) -> None:
    run = FakeRun({("apt-cache", "policy", "vagrant"): (0, "vagrant:\n  Candidate: 2.3.4+dfsg-1\n")})
    lab, _, _ = make_lab(tmp_path, tools={"apt-get"}, run=run, healthz="ok")

    def apt_installs(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        result = run(command, **kwargs)
        if command[:2] == ["apt-get", "install"]:
            lab._installed.add("vagrant")  # type: ignore[attr-defined]
        return result

    lab._run = apt_installs
    lab.ensure_vagrant()
    assert ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "vagrant"] in run.commands
    assert ["apt-get", "update", "-qq"] not in run.commands  # apt already knew the package


def test_without_vagrant_and_without_root_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    lab, run, _ = make_lab(tmp_path, tools={"apt-get"}, is_root=False)
    with pytest.raises(LabError, match=r"vagrant is not installed.*apt-get install vagrant"):
        lab.up()
    assert run.commands == []


def test_down_destroys_every_machine(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])
    lab.down()
    assert FakeVagrant.instances[-1].calls == [("destroy", {})]


# -- status --------------------------------------------------------------------------------------------------


def test_status_shows_the_forwarded_port_and_what_healthz_answers(tmp_path: Path) -> None:
    run = FakeRun({("docker", "port"): (0, "127.0.0.1:10256\n")})
    statuses = [Status("lab-1", "running", "docker"), Status("lab-2", "not_created", "docker")]
    lab, _, _ = make_lab(tmp_path, statuses, run=run, env={"LAB_PREFIX": "mylab"})
    lines = lab.status_lines()
    assert lines[1].split()[:3] == ["lab-1", "running", "docker"]
    assert lines[1].endswith("http://127.0.0.1:10256/healthz -> ok")
    assert lines[2].split() == ["lab-2", "not_created", "docker", "-"]
    assert run.commands == [["docker", "port", "mylab-lab-1", "10255/tcp"]]


def test_status_asks_vagrant_for_the_port_of_a_vm(tmp_path: Path) -> None:
    run = FakeRun({("vagrant", "port"): (0, "10255\n")})
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "virtualbox")], run=run)
    assert lab.status_lines()[1].endswith("http://127.0.0.1:10255/healthz -> ok")
    assert run.commands == [["vagrant", "port", "lab-1", "--guest", "10255"]]


# -- walkthrough ---------------------------------------------------------------------------------------------


def test_walkthrough_runs_the_playbook_over_ssh_on_the_running_machines(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    statuses = [
        Status("lab-1", "running", "docker"),
        Status("lab-2", "running", "docker"),
        Status("lab-3", "stopped", "docker"),
    ]
    lab, _, _ = make_lab(tmp_path, statuses)

    def capture(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        inventory = Path(command[command.index("-i") + 1])
        seen["inventory"] = yaml.safe_load(inventory.read_text())
        seen["command"], seen["kwargs"] = command, kwargs
        return subprocess.CompletedProcess(command, 0, "", "")

    lab._run = capture
    assert lab.walkthrough(ansible_args=["-v"]) == 0
    hosts = seen["inventory"]["lab"]["hosts"]
    assert sorted(hosts) == ["lab-1", "lab-2"]
    assert hosts["lab-2"]["ansible_port"] == 2200
    assert (
        hosts["lab-1"]["ansible_ssh_private_key_file"] == "/repo/.vagrant/machines/lab-1/docker/private_key"
    )
    assert seen["command"][0].endswith("ansible-playbook")
    assert seen["command"][-2:] == ["ansible/walkthrough.yml", "-v"]
    assert seen["kwargs"]["env"]["ANSIBLE_CONFIG"] == str(tmp_path / "ansible.cfg")


def test_walkthrough_without_a_running_machine_says_to_run_up(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "not_created", "docker")])
    with pytest.raises(LabError, match=r"no lab machine is running: start one with ./lab up"):
        lab.walkthrough()


def test_walkthrough_of_a_machine_that_is_not_running_names_it(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])
    with pytest.raises(LabError, match="not running: lab-7"):
        lab.walkthrough(["lab-7"])


# -- the command line ----------------------------------------------------------------------------------------


def test_cli_ssh_execs_vagrant_ssh_in_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab, _, _ = make_lab(tmp_path)
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.chdir("/")
    assert cli.main(["ssh", "lab-2", "-c", "uptime"], lab=lab, execvp=lambda f, a: calls.append((f, a))) == 0
    assert calls == [("vagrant", ["vagrant", "ssh", "lab-2", "-c", "uptime"])]
    assert Path.cwd() == tmp_path


def test_cli_walkthrough_passes_machines_and_ansible_arguments(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path)
    got: dict[str, Any] = {}
    lab.walkthrough = lambda names, args: got.update(names=names, args=args) or 3  # type: ignore[method-assign]
    assert cli.main(["walkthrough", "lab-1", "--", "-v", "--diff"], lab=lab) == 3
    assert got == {"names": ["lab-1"], "args": ["-v", "--diff"]}


def test_cli_reports_lab_errors_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab, _, _ = make_lab(tmp_path, tools=set(), is_root=False)
    assert cli.main(["status"], lab=lab) == 1
    assert capsys.readouterr().err.startswith("lab: error: vagrant is not installed")


def test_cli_reports_a_failed_vagrant_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab, _, _ = make_lab(tmp_path)

    def boom(_provider: str | None = None) -> None:
        raise subprocess.CalledProcessError(1, ["vagrant", "up", "--provider", "docker"])

    lab.up = boom  # type: ignore[method-assign]
    assert cli.main(["up"], lab=lab) == 1
    assert "lab: error: vagrant up --provider docker failed (exit 1)" in capsys.readouterr().err


def test_cli_provider_prints_the_choice_and_the_reason(tmp_path: Path) -> None:
    lab, _, out = make_lab(tmp_path)
    assert cli.main(["provider"], lab=lab) == 0
    assert out.getvalue().startswith("docker: no VirtualBox or libvirt here")


def test_machine_running_means_running() -> None:
    assert Machine("lab-1", "running", "docker").running
    assert not Machine("lab-1", "poweroff", "virtualbox").running
