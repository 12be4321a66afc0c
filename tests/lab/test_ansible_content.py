"""The lab's Ansible content, without a machine: linters, syntax, the ansible.cfg arrangement, the
argument specs, and the roles' preflight failures (run against this host: preflight only reads, with stat,
ss and systemctl show).

The same failures on a real systemd host, and a Docker engine that fails to start, are checked by Molecule's
verify (molecule/default/bad_input.yml).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.helpers import REPO, lab_env, output, run, tool

ROLES = ("docker", "containerd", "pykubelet", "lab")


# -- linters and syntax --------------------------------------------------------------------------------------


def test_yamllint_passes() -> None:
    result = run([tool("yamllint"), "--strict", "."])
    assert result.returncode == 0, output(result)


def test_ansible_lint_production_profile_passes() -> None:
    result = run([tool("ansible-lint"), "--profile", "production"], timeout=300)
    assert result.returncode == 0, output(result)
    assert "Profile 'production' was required, and it passed" in result.stdout + result.stderr


def test_vagrantfile_validates_offline() -> None:
    result = run(["vagrant", "validate"], timeout=120)
    assert result.returncode == 0, output(result)


def test_the_vagrant_docker_machine_gets_the_volumes_molecules_instance_gets() -> None:
    """Both run the nested engines (Docker, or containerd for ``./lab up --runtime containerd``) in a
    container: each engine's directory must be a volume, as overlay2 and containerd's overlayfs snapshotter
    cannot mount on the container's own overlay root."""
    molecule = yaml.safe_load((REPO / ".config/molecule/config.yml").read_text())
    anonymous = [v for v in molecule["platforms"][0]["volumes"] if ":" not in v]
    assert anonymous == ["/var/lib/docker", "/var/lib/containerd"]
    vagrantfile = (REPO / "Vagrantfile").read_text()
    for volume in anonymous:
        assert f'"-v", "{volume}"' in vagrantfile, f"the Vagrantfile's DOCKER_CREATE_ARGS lack {volume}"


@pytest.mark.parametrize(
    ("cwd", "playbook"),
    [
        pytest.param(REPO, "ansible/site.yml", id="from-the-root"),
        pytest.param(REPO / "ansible", "site.yml", id="from-ansible"),
    ],
)
def test_site_yml_finds_roles_and_inventory_from_the_root_and_from_ansible(cwd: Path, playbook: str) -> None:
    result = run([tool("ansible-playbook"), playbook, "--syntax-check"], cwd=cwd)
    assert result.returncode == 0, output(result)
    config = run([tool("ansible-config"), "dump", "--only-changed", "--format", "json"], cwd=cwd)
    settings = {item["name"]: item["value"] for item in json.loads(config.stdout) if "name" in item}
    assert settings["DEFAULT_ROLES_PATH"] == [str(REPO / "roles")]
    assert settings["DEFAULT_HOST_LIST"] == [str(REPO / "ansible/inventory/hosts.yml")]
    inventory = run([tool("ansible-inventory"), "--list"], cwd=cwd)
    assert "lab" in json.loads(inventory.stdout)["all"]["children"]


def test_walkthrough_and_scenarios_parse() -> None:
    for playbook in (
        "ansible/walkthrough.yml",
        "molecule/default/verify.yml",
        "molecule/default/converge.yml",
    ):
        result = run(
            [tool("ansible-playbook"), playbook, "--syntax-check"],
            env=lab_env(ANSIBLE_ROLES_PATH=str(REPO / "roles")),
        )
        assert result.returncode == 0, f"{playbook}: {output(result)}"


# -- argument specs ------------------------------------------------------------------------------------------


def _spec(role: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "roles" / role / "meta/argument_specs.yml").read_text())["argument_specs"][
        "main"
    ]


def _defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "roles" / role / "defaults/main.yml").read_text())


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_specified_and_prefixed_and_vice_versa(role: str) -> None:
    options = _spec(role)["options"]
    defaults = _defaults(role)
    assert sorted(options) == sorted(defaults)
    assert all(name.startswith(f"{role}_") for name in defaults)
    for name, value in defaults.items():
        if isinstance(value, str) and ("{{" in value or "lookup(" in value):
            continue  # computed defaults are described in words in the spec
        assert options[name].get("default") == value, f"{name}: spec default differs from defaults/main.yml"
        assert options[name].get("description"), f"{name} has no description"


@pytest.mark.parametrize("role", ROLES)
def test_meta_lists_the_three_platforms(role: str) -> None:
    meta = yaml.safe_load((REPO / "roles" / role / "meta/main.yml").read_text())["galaxy_info"]
    platforms = {p["name"]: p["versions"] for p in meta["platforms"]}
    assert platforms == {"Ubuntu": ["jammy", "noble"], "Debian": ["bookworm"]}


def _local_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump({"lab": {"hosts": {"localhost": {"ansible_connection": "local"}}}}, sort_keys=False)
    )
    return inventory


def _validate_only(tmp_path: Path, extra_vars: dict[str, Any] | None = None) -> Any:
    """site.yml against this host with only the tasks tagged ``always``: the validation play, fact
    gathering and the roles' own argument validation, so even a validation that wrongly passed could
    not change this host."""
    extra = ["-e", json.dumps(extra_vars)] if extra_vars else []
    return run(
        [
            tool("ansible-playbook"), "ansible/site.yml", "-i", str(_local_inventory(tmp_path)),
            "--tags", "validate-only", *extra,
        ],
        env=lab_env(ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extra_vars", "named"),
    [
        pytest.param(
            {"docker_edition": "podman"}, "docker_edition must be one of: distro, ce", id="bad-choice"
        ),
        pytest.param({"pykubelet_read_only_port": "lots"}, "pykubelet_read_only_port", id="bad-type"),
        pytest.param({"pykubelet_read_only_port": None}, "pykubelet_read_only_port", id="missing-value"),
        pytest.param(
            {"lab_manifests_state": "everywhere"}, "lab_manifests_state must be one of", id="lab-choice"
        ),
        pytest.param({"pykubelet_extra_config": 5}, "pykubelet_extra_config", id="not-a-dict"),
        pytest.param(
            {"pykubelet_container_runtime": "cri-o"},
            "pykubelet_container_runtime must be one of: docker, containerd",
            id="runtime-choice",
        ),
        pytest.param(
            {"containerd_restrict_oom_score_adj": "yes"},
            "containerd_restrict_oom_score_adj must be one of: auto, always, never",
            id="containerd-choice",
        ),
    ],
)
def test_site_yml_fails_early_naming_the_variable(
    tmp_path: Path, extra_vars: dict[str, Any], named: str
) -> None:
    result = _validate_only(tmp_path, extra_vars)
    assert result.returncode != 0, output(result)
    assert "Validation of arguments failed" in result.stdout
    assert named in result.stdout
    assert "PLAY [Set up the pykubelet lab]" not in result.stdout  # it stopped in the first play


def test_site_yml_accepts_the_defaults(tmp_path: Path) -> None:
    result = _validate_only(tmp_path)
    assert result.returncode == 0, output(result)


def test_site_yml_accepts_a_containerd_node(tmp_path: Path) -> None:
    result = _validate_only(tmp_path, {"pykubelet_container_runtime": "containerd"})
    assert result.returncode == 0, output(result)


# -- preflight failures --------------------------------------------------------------------------------------


def _preflight(tmp_path: Path, role: str, task_vars: dict[str, Any]) -> Any:
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Preflight",
                    "hosts": "localhost",
                    "gather_facts": True,
                    "tasks": [
                        {
                            "name": f"Run the {role} role's preflight",
                            "ansible.builtin.include_role": {"name": role, "tasks_from": "preflight"},
                            "vars": task_vars,
                        }
                    ],
                }
            ],
            sort_keys=False,
        )
    )
    return run([tool("ansible-playbook"), str(playbook)], env=lab_env(ANSIBLE_ROLES_PATH=str(REPO / "roles")))


def _dirs(tmp_path: Path) -> dict[str, str]:
    return {
        "pykubelet_manifest_dir": str(tmp_path / "manifests"),
        "pykubelet_root_dir": str(tmp_path / "root"),
        "pykubelet_config_dir": str(tmp_path / "etc"),
    }


FEDORA = {
    "distribution": "Fedora",
    "distribution_major_version": "41",
    "distribution_version": "41",
    "distribution_release": "",
    "os_family": "RedHat",
}


@pytest.mark.parametrize("role", ["docker", "containerd", "pykubelet"])
def test_an_unsupported_os_fails_with_the_supported_list(tmp_path: Path, role: str) -> None:
    result = _preflight(tmp_path, role, {"ansible_facts": FEDORA, **_dirs(tmp_path)})
    assert result.returncode != 0, output(result)
    assert (
        f"The {role} role supports Ubuntu 22.04 (jammy), Ubuntu 24.04 (noble) and Debian 12 (bookworm)"
        in result.stdout
    )
    assert "runs Fedora 41" in result.stdout


def test_a_manifest_path_that_is_a_file_fails(tmp_path: Path) -> None:
    dirs = _dirs(tmp_path)
    Path(dirs["pykubelet_manifest_dir"]).write_text("apiVersion: v1\n")
    result = _preflight(tmp_path, "pykubelet", {**dirs, "pykubelet_read_only_port": 0})
    assert result.returncode != 0, output(result)
    assert (
        f"{dirs['pykubelet_manifest_dir']} exists on localhost but is not a directory (a file)"
        in result.stdout
    )


def test_a_taken_port_fails_naming_the_process(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = _preflight(tmp_path, "pykubelet", {**_dirs(tmp_path), "pykubelet_read_only_port": port})
    assert result.returncode != 0, output(result)
    assert f"Port {port} on localhost is taken by another process" in result.stdout
    assert "pid=" in result.stdout


def test_preflight_passes_on_a_supported_host_with_a_free_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _preflight(tmp_path, "pykubelet", {**_dirs(tmp_path), "pykubelet_read_only_port": port})
    assert result.returncode == 0, output(result)
