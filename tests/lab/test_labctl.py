"""labctl with python-vagrant, subprocesses and the environment faked: provider choice, up's plan, errors."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from labctl import cli
from labctl.machines import LabError, Machine, StepError

from tests.lab.labctl_fakes import FakeRun, FakeVagrant, Plugin, Status, make_lab

DAY = 86400.0

LIBVIRT = {"/var/run/libvirt/libvirt-sock", "/dev/kvm"}
LIBVIRT_PLUGIN = [Plugin("vagrant-libvirt", "0.11.2", True)]

# -- provider choice -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tools", "plugins", "paths", "expected"),
    [
        pytest.param(
            {"vagrant", "VBoxManage", "virsh"}, [], {"/dev/vboxdrv", *LIBVIRT}, "virtualbox", id="vbox"
        ),
        pytest.param({"vagrant", "VBoxManage"}, [], set(), "docker", id="vbox-without-driver"),
        pytest.param({"vagrant", "virsh"}, LIBVIRT_PLUGIN, LIBVIRT, "libvirt", id="libvirt"),
        pytest.param({"vagrant", "virsh"}, [], LIBVIRT, "docker", id="libvirt-without-plugin"),
        pytest.param({"vagrant", "virsh"}, LIBVIRT_PLUGIN, set(), "docker", id="no-libvirtd"),
        pytest.param({"virsh"}, LIBVIRT_PLUGIN, LIBVIRT, "docker", id="libvirt-without-vagrant"),
        pytest.param({"vagrant"}, [], set(), "docker", id="no-hypervisor"),
        pytest.param(set(), [], set(), "docker", id="nothing-installed"),
    ],
)
def test_provider_follows_what_works_on_the_host(
    tmp_path: Path, tools: set[str], plugins: list[Plugin], paths: set[str], expected: str
) -> None:
    lab, _, _ = make_lab(tmp_path, tools=tools, plugins=plugins, paths=paths)
    assert lab.choose_provider().name == expected
    assert FakeVagrant.status_calls == 0  # `vagrant status` fails while no provider's engine runs


def test_a_hypervisor_that_does_not_work_is_named_in_the_reason(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, tools={"VBoxManage"})
    assert "VirtualBox is installed but its kernel driver is not loaded" in lab.choose_provider().reason


def test_explicit_provider_wins_over_the_host(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, tools={"vagrant", "VBoxManage"}, env={"LAB_PROVIDER": "docker"})
    choice = lab.choose_provider()
    assert (choice.name, choice.reason) == ("docker", "asked for with LAB_PROVIDER")
    assert lab.choose_provider("libvirt").name == "libvirt"


def test_unknown_provider_is_refused_with_the_choices(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, env={"VAGRANT_DEFAULT_PROVIDER": "hyperv"})
    with pytest.raises(LabError, match=r"VAGRANT_DEFAULT_PROVIDER=hyperv.*virtualbox, libvirt, docker"):
        lab.choose_provider()


def test_existing_machines_keep_their_provider_from_vagrants_index(tmp_path: Path) -> None:
    lab, _, _ = make_lab(
        tmp_path,
        [Status("lab-1", "running", "docker")],
        tools={"vagrant", "VBoxManage"},
        paths={"/dev/vboxdrv"},
    )
    assert lab.choose_provider().name == "docker"
    assert FakeVagrant.status_calls == 0


# -- up ------------------------------------------------------------------------------------------------------


def test_up_on_a_fresh_machine_installs_starts_builds_then_creates(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path, tools={"apt-get"}, lists_age=None)
    lab.up()
    assert stream.names() == [
        "apt-get update",
        "apt-get install",
        "ensure-docker.sh",
        "build-images.sh --with-systemd",
        "vagrant up",
    ]
    assert stream.commands[1][-2:] == ["vagrant", "docker.io"]  # one apt transaction for both
    assert stream.commands[-1] == ["vagrant", "up", "--provider=docker"]
    assert FakeVagrant.status_calls == 0
    text = out.getvalue()
    for index, title in enumerate(
        ["install vagrant, docker.io with apt", "start the Docker engine", "build the lab images", "create"],
        1,
    ):
        assert f"lab: [{index}/4] {title}" in text
    assert "because apt has no package lists yet" in text


def test_up_with_everything_installed_skips_apt(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path)
    lab.up()
    assert stream.names() == ["ensure-docker.sh", "build-images.sh --with-systemd", "vagrant up"]
    assert (
        "lab: [3/3] create and provision lab-1 with the docker provider (vagrant up): done in"
        in out.getvalue()
    )


def test_up_with_a_runtime_hands_it_to_the_vagrantfile(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path)
    assert cli.main(["up", "--runtime", "containerd"], lab=lab) == 0
    vagrant_up = stream.commands.index(["vagrant", "up", "--provider=docker"])
    assert stream.envs[vagrant_up]["LAB_RUNTIME"] == "containerd"


def test_up_with_a_hypervisor_does_not_touch_docker(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path, tools={"vagrant", "VBoxManage"}, paths={"/dev/vboxdrv"})
    lab.up()
    assert stream.commands == [["vagrant", "up", "--provider=virtualbox"]]
    assert "provider virtualbox (VirtualBox is installed (VBoxManage))" in out.getvalue()


def test_up_tries_once_more_when_nothing_was_created(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path)
    stream.answer(["vagrant", "up"], (1, ["Error: network not found"]), (0, ["==> lab-1: Machine booted"]))
    lab.up()
    assert "trying once more" in out.getvalue()
    assert stream.names().count("vagrant up") == 2


def test_up_does_not_retry_once_a_machine_exists_and_says_what_to_do(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])
    stream.answer(["vagrant", "up"], (1, ["TASK [pykubelet : start]", "fatal: [lab-1]: FAILED!"]))
    with pytest.raises(StepError) as failure:
        lab.up()
    assert stream.names().count("vagrant up") == 1
    message = str(failure.value)
    assert "`vagrant up --provider=docker` exited with 1" in message
    assert "    fatal: [lab-1]: FAILED!" in message
    assert "What to do:" in message
    assert "./lab down" in message


def test_a_failing_setup_script_names_the_step_the_command_and_its_last_lines(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path)
    stream.answer(
        [str(tmp_path / "scripts/build-images.sh")], (1, ["build-images: ERROR: mmdebstrap failed"])
    )
    with pytest.raises(StepError) as failure:
        lab.up()
    assert failure.value.step == "build the lab images"
    assert "build-images.sh --with-systemd` exited with 1" in str(failure.value)
    assert failure.value.tail == ["build-images: ERROR: mmdebstrap failed"]
    assert "vagrant up" not in stream.names()


def test_without_vagrant_and_without_root_up_says_how_to_install_it(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path, tools={"apt-get", "docker", "dockerd"}, is_root=False)
    with pytest.raises(LabError, match=r"vagrant is not installed.*sudo apt-get install vagrant"):
        lab.up()
    assert stream.commands == []


# -- apt -----------------------------------------------------------------------------------------------------


def test_stale_lists_are_refreshed_before_installing(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path, tools={"apt-get", "docker", "dockerd"}, lists_age=30 * DAY)
    lab.ensure_vagrant()
    assert stream.names() == ["apt-get update", "apt-get install"]
    assert "because the package lists are 30 days old" in out.getvalue()
    assert time.time() - (tmp_path / "apt-lists").stat().st_mtime < 60  # marked fresh


def test_fresh_lists_are_not_refreshed(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path, tools={"apt-get", "docker", "dockerd"}, lists_age=3600)
    lab.ensure_vagrant()
    assert stream.names() == ["apt-get install"]
    assert "--no-install-recommends" in stream.commands[0]
    assert "APT::Status-Fd=3" in stream.commands[0]  # fd 1 would break Perl maintainer scripts


def test_a_failed_set_up_script_says_to_run_dpkg_configure(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path, tools={"apt-get"}, lists_age=30 * DAY)
    failed = "installed docker.io package post-installation script subprocess returned error exit status 1"
    stream.answer(["apt-get", "install"], (100, [f"dpkg: error processing package docker.io: {failed}"]))
    with pytest.raises(StepError) as failure:
        lab.up()
    assert "dpkg --configure -a" in failure.value.hint
    assert failure.value.command[:2] == ["apt-get", "install"]  # as the user would type it, not the wrapper


def test_a_failed_install_refreshes_the_lists_and_retries_once(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path, tools={"apt-get", "docker", "dockerd"}, lists_age=3600)
    stream.answer(
        ["apt-get", "install"], (100, ["E: Failed to fetch http://deb/vagrant_2.3.4.deb  404"]), (0, [])
    )
    lab.ensure_vagrant()
    assert stream.names() == ["apt-get install", "apt-get update", "apt-get install"]
    assert "may name versions the mirror no longer has" in out.getvalue()


def test_a_second_failure_names_apt_and_the_hint(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path, tools={"apt-get", "docker", "dockerd"}, lists_age=30 * DAY)
    stream.answer(
        ["apt-get", "install"],
        (100, ["pmstatus:dpkg-exec:0:Running dpkg", "E: Unable to locate package vagrant"]),
    )
    with pytest.raises(StepError) as failure:
        lab.ensure_vagrant()
    assert stream.names() == ["apt-get update", "apt-get install"]  # the lists were just refreshed: no retry
    assert failure.value.tail == ["E: Unable to locate package vagrant"]  # progress records left out
    assert "HashiCorp" in failure.value.hint


def test_apt_progress_is_shown_in_tenths(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path, tools={"apt-get", "docker", "dockerd"})
    status = [f"dlstatus:{i}:{i * 5}.0:Retrieving file {i} of 20" for i in range(21)]
    status += [f"pmstatus:ruby:{i * 2.5}:Installing ruby" for i in range(41)]
    stream.answer(["apt-get", "install"], (0, ["Selecting previously unselected package ruby.", *status]))
    lab.ensure_vagrant()
    shown = [line for line in out.getvalue().splitlines() if line.startswith("lab: apt: ")]
    assert len([line for line in shown if "downloading" in line]) == 11
    assert len([line for line in shown if "installing" in line]) == 11
    assert "Selecting" not in out.getvalue()


# -- down, status, walkthrough, ssh ----------------------------------------------------------------------


def test_down_destroys_the_created_machines(tmp_path: Path) -> None:
    lab, stream, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])
    lab.down()
    assert stream.commands == [["vagrant", "destroy", "--force"]]


def test_down_with_nothing_created_asks_nothing(tmp_path: Path) -> None:
    lab, stream, out = make_lab(tmp_path, tools=set())
    lab.down()
    assert stream.commands == []
    assert "nothing to destroy" in out.getvalue()


def test_status_on_a_machine_with_nothing_installed_says_what_up_would_do(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, tools=set(), env={"LAB_NODES": "2"})
    lines = lab.status_lines()
    assert [line.split()[:3] for line in lines[1:3]] == [
        ["lab-1", "not_created", "-"],
        ["lab-2", "not_created", "-"],
    ]
    assert lines[3].startswith("provider for up: docker (no VirtualBox or libvirt here")
    assert lines[4] == (
        "./lab up would: 1) install vagrant, docker.io with apt; 2) start the Docker engine; "
        "3) build the lab images; 4) create and provision lab-1, lab-2 with the docker provider (vagrant up)"
    )
    assert FakeVagrant.instances == []


def test_status_shows_the_forwarded_port_and_what_healthz_answers(tmp_path: Path) -> None:
    run = FakeRun({("docker", "port"): (0, "127.0.0.1:10256\n")})
    statuses = [Status("lab-1", "running", "docker"), Status("lab-2", "not_created", "docker")]
    lab, _, _ = make_lab(tmp_path, statuses, run=run, env={"LAB_PREFIX": "mylab"})
    lines = lab.status_lines()
    assert lines[1].split()[:3] == ["lab-1", "running", "docker"]
    assert lines[1].endswith("http://127.0.0.1:10256/healthz -> ok")
    assert lines[2].split() == ["lab-2", "not_created", "docker", "-"]
    assert run.commands == [["docker", "port", "mylab-lab-1", "10255/tcp"]]
    assert FakeVagrant.instances[-1].kwargs["env"]["VAGRANT_DEFAULT_PROVIDER"] == "docker"


def test_status_asks_vagrant_for_the_port_of_a_vm(tmp_path: Path) -> None:
    run = FakeRun({("vagrant", "port"): (0, "10255\n")})
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "virtualbox")], run=run)
    assert lab.status_lines()[1].endswith("http://127.0.0.1:10255/healthz -> ok")
    assert run.commands == [["vagrant", "port", "lab-1", "--guest", "10255"]]


def test_a_failing_vagrant_status_says_what_vagrant_said_and_what_to_do(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])

    def failing_status(self: FakeVagrant) -> list[Status]:
        self.kwargs["err_cm"]().__enter__().write("No usable default provider could be found\n")
        raise subprocess.CalledProcessError(1, ["vagrant", "status"])

    original = FakeVagrant.status
    FakeVagrant.status = failing_status  # type: ignore[method-assign]
    try:
        with pytest.raises(LabError, match=r"(?s)No usable default provider.*ensure-docker.sh"):
            lab.machines()
    finally:
        FakeVagrant.status = original  # type: ignore[method-assign]


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
    lab, _, _ = make_lab(tmp_path, tools=set())
    with pytest.raises(LabError, match=r"no lab machine is running: start one with ./lab up"):
        lab.walkthrough()


def test_walkthrough_of_a_machine_that_is_not_running_names_it(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path, [Status("lab-1", "running", "docker")])
    with pytest.raises(LabError, match="not running: lab-7"):
        lab.walkthrough(["lab-7"])


# -- the command line ----------------------------------------------------------------------------------------


def test_cli_ssh_execs_vagrant_ssh_in_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab, _, _ = make_lab(
        tmp_path, [Status("lab-1", "running", "docker"), Status("lab-2", "running", "docker")]
    )
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.chdir("/")
    assert cli.main(["ssh", "lab-2", "-c", "uptime"], lab=lab, execvp=lambda f, a: calls.append((f, a))) == 0
    assert calls == [("vagrant", ["vagrant", "ssh", "lab-2", "-c", "uptime"])]
    assert Path.cwd() == tmp_path


def test_cli_ssh_before_up_says_to_run_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab, _, _ = make_lab(tmp_path)
    assert cli.main(["ssh"], lab=lab, execvp=lambda f, a: pytest.fail("no exec")) == 1
    assert "no lab machine was created yet: start one with ./lab up" in capsys.readouterr().err


def test_cli_walkthrough_passes_machines_and_ansible_arguments(tmp_path: Path) -> None:
    lab, _, _ = make_lab(tmp_path)
    got: dict[str, Any] = {}
    lab.walkthrough = lambda names, args: got.update(names=names, args=args) or 3  # type: ignore[method-assign]
    assert cli.main(["walkthrough", "lab-1", "--", "-v", "--diff"], lab=lab) == 3
    assert got == {"names": ["lab-1"], "args": ["-v", "--diff"]}


def test_cli_status_answers_with_nothing_installed(tmp_path: Path) -> None:
    lab, _, out = make_lab(tmp_path, tools=set(), is_root=False)
    assert cli.main(["status"], lab=lab) == 0
    assert "./lab up would: 1) install vagrant, docker.io with apt" in out.getvalue()


def test_cli_reports_a_failed_step_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab, stream, _ = make_lab(tmp_path)
    stream.answer([str(tmp_path / "scripts/ensure-docker.sh")], (1, ["ensure-docker: ERROR: no engine"]))
    assert cli.main(["up"], lab=lab) == 1
    err = capsys.readouterr().err
    assert err.startswith("lab: error: step 'start the Docker engine' failed:")
    assert "ensure-docker: ERROR: no engine" in err
    assert "Traceback" not in err


def test_cli_provider_prints_the_choice_the_reason_and_the_plan(tmp_path: Path) -> None:
    lab, _, out = make_lab(tmp_path)
    assert cli.main(["provider"], lab=lab) == 0
    first, plan = out.getvalue().splitlines()
    assert first.startswith("docker: no VirtualBox or libvirt here")
    assert plan.startswith("./lab up would: 1) start the Docker engine")


def test_machine_running_means_running() -> None:
    assert Machine("lab-1", "running", "docker").running
    assert not Machine("lab-1", "poweroff", "virtualbox").running
