"""The roles' behaviour that can be shown without a lab machine (seconds, against this host, changing
nothing):

- each role's tag selects that role's tasks (``--list-tasks``: the tasks are imported statically, so the
  listing is what a run with the tag executes);
- docker_users refuses a user the host does not have, naming it, before any task could create it (run in
  check mode, so even a wrong pass could not add a user to this host);
- the rendered KubeletConfiguration and unit: the read-only port on 127.0.0.1 by default, LimitNOFILE
  raised; with pykubelet_container_runtime containerd, the CRI endpoint and the unit ordered after containerd;
- the containerd role's config.toml and CNI conflist (CRI plugin, pause image, cgroup driver, the
  restrict_oom_score_adj decision from CapBnd, read on this host by its read-only preflight), and the names
  the lab role looks for in containerd's k8s.io namespace.

The same behaviour on a real systemd host (tags running the roles, check mode on a fresh and on a
converged host, the docker group, the port's address and the limit as the running service has them) is
checked by tests/lab/test_molecule.py.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.helpers import REPO, lab_env, output, run, tool

ROLES = ("docker", "containerd", "pykubelet", "lab")
LISTED = re.compile(r"^\s+(?P<role>[\w-]+) : (?P<name>.+?)\tTAGS: \[(?P<tags>[^\]]*)\]$", re.MULTILINE)


def _listed_tasks(*args: str) -> list[tuple[str, str, str]]:
    result = run([tool("ansible-playbook"), "ansible/site.yml", "--list-tasks", *args])
    assert result.returncode == 0, output(result)
    return [(m["role"], m["name"], m["tags"]) for m in LISTED.finditer(result.stdout)]


def _playbook(
    tmp_path: Path, tasks: list[dict[str, Any]], *args: str, **play: Any
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "play.yml"
    path.write_text(
        yaml.safe_dump(
            [{"name": "Play", "hosts": "localhost", "gather_facts": False, **play, "tasks": tasks}]
        )
    )
    return run(
        [tool("ansible-playbook"), "-i", "localhost,", "-c", "local", str(path), *args],
        env=lab_env(ANSIBLE_ROLES_PATH=str(REPO / "roles"), ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3"),
    )


@pytest.mark.parametrize("role", ROLES)
def test_a_roles_tag_selects_exactly_that_roles_tasks(role: str) -> None:
    everything = [(r, name) for r, name, _ in _listed_tasks() if not name.startswith("Validating arguments")]
    selected = [(r, name) for r, name, _ in _listed_tasks("--tags", role)]
    own = [(r, name) for r, name in everything if r == role]
    assert len(own) >= 3, f"site.yml lists only {own} for the {role} role"
    # the argument validation of every role runs under any tag (always); besides it, exactly this role's tasks
    assert [t for t in selected if not t[1].startswith("Validating arguments")] == own


def test_validate_only_selects_no_role_task() -> None:
    tasks = _listed_tasks("--tags", "validate-only")
    assert tasks, "site.yml --tags validate-only lists no task at all"
    assert all(name.startswith("Validating arguments") and "always" in tags for _, name, tags in tasks), tasks


def test_docker_users_refuses_a_missing_user_and_creates_none(tmp_path: Path) -> None:
    missing = "no-such-lab-user-4711"
    result = _playbook(
        tmp_path,
        [
            {
                "name": "Run the docker role's user tasks",
                "ansible.builtin.include_role": {"name": "docker", "tasks_from": "users"},
                "vars": {"docker_users": ["root", missing]},
            }
        ],
        "--check",
    )
    assert result.returncode != 0, output(result)
    assert f"docker_users names a user that localhost does not have: {missing}." in result.stdout, output(
        result
    )
    assert "does not create them" in result.stdout
    assert "Ensure the docker users are in the docker group" not in result.stdout  # it stopped before
    assert run(["getent", "passwd", missing]).returncode == 2, f"{missing} exists on this host now"


def _render_role(
    tmp_path: Path, role: str, templates: dict[str, str], extra_vars: dict[str, Any] | None = None
) -> dict[str, str]:
    """Render a role's ``templates`` (output name -> Jinja expression) with its defaults and vars (and
    ``extra_vars``), on localhost, writing only into ``tmp_path``."""
    role_dir = REPO / "roles" / role
    tasks = [
        {
            "name": f"Render {name}",
            "ansible.builtin.copy": {"content": expression, "dest": str(tmp_path / name), "mode": "0644"},
        }
        for name, expression in templates.items()
    ]
    vars_files = [str(role_dir / "defaults/main.yml"), str(role_dir / "vars/main.yml")]
    args = ["-e", json.dumps(extra_vars)] if extra_vars else []
    result = _playbook(tmp_path, tasks, *args, vars_files=vars_files)
    assert result.returncode == 0, output(result)
    return {name: (tmp_path / name).read_text() for name in templates}


def _template(role: str, name: str) -> str:
    return f"{{{{ lookup('ansible.builtin.template', '{REPO}/roles/{role}/templates/{name}.j2') }}}}"


def _render(tmp_path: Path, extra_vars: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The pykubelet role's config.yaml and unit, rendered with its defaults and vars (and ``extra_vars``)."""
    names = ("config.yaml", "pykubelet.service")
    rendered = _render_role(tmp_path, "pykubelet", {n: _template("pykubelet", n) for n in names}, extra_vars)
    return yaml.safe_load(rendered["config.yaml"]), rendered["pykubelet.service"]


def test_the_read_only_port_listens_on_loopback_by_default(tmp_path: Path) -> None:
    config, _ = _render(tmp_path)
    assert config["address"] == "127.0.0.1"
    assert config["readOnlyPort"] == 10255
    config, _ = _render(tmp_path, {"pykubelet_address": "0.0.0.0"})
    assert config["address"] == "0.0.0.0"


def test_the_unit_raises_the_open_file_limit(tmp_path: Path) -> None:
    _, unit = _render(tmp_path)
    service = unit.split("[Service]", 1)[1].split("[Install]", 1)[0]
    assert re.search(r"^LimitNOFILE=1048576$", service, re.MULTILINE), unit


def _unit_section(unit: str) -> str:
    return unit.split("[Unit]", 1)[1].split("[Service]", 1)[0]


def test_docker_stays_the_default_runtime(tmp_path: Path) -> None:
    config, unit = _render(tmp_path)
    assert config["containerRuntimeEndpoint"] == "unix:///var/run/docker.sock"
    section = _unit_section(unit)
    assert re.search(r"^After=docker\.service network-online\.target$", section, re.MULTILINE), unit
    assert re.search(r"^Requires=docker\.service$", section, re.MULTILINE), unit
    assert "containerd" not in section


def test_the_containerd_runtime_points_pykubelet_at_containerd(tmp_path: Path) -> None:
    config, unit = _render(tmp_path, {"pykubelet_container_runtime": "containerd"})
    assert config["containerRuntimeEndpoint"] == "unix:///run/containerd/containerd.sock"
    section = _unit_section(unit)
    assert re.search(r"^After=containerd\.service network-online\.target$", section, re.MULTILINE), unit
    assert re.search(r"^Wants=containerd\.service network-online\.target$", section, re.MULTILINE), unit
    # Wants, not Requires: restarting containerd must not restart pykubelet (nor, through it, any pod)
    assert "Requires=" not in section and "docker" not in section, unit
    # containerd_socket moves the endpoint with it; an explicit endpoint wins
    config, _ = _render(
        tmp_path, {"pykubelet_container_runtime": "containerd", "containerd_socket": "/run/c/c.sock"}
    )
    assert config["containerRuntimeEndpoint"] == "unix:///run/c/c.sock"


def _capbnd_status(has_sys_resource: bool) -> str:
    mask = 0x1FFFFFFFFFF if has_sys_resource else 0x1FFFFFFFFFF & ~(1 << 24)
    return base64.b64encode(f"Name:\tpython3\nCapBnd:\t{mask:016x}\n".encode()).decode()


TOML_LINE = re.compile(r"^\s*(?:\[(?P<table>[^\]]+)\]|(?P<key>\w+)\s*=\s*(?P<value>.+?))\s*$")


def _toml_keys(text: str) -> dict[str, str]:
    """``table.key`` -> the raw value, for the flat TOML the role writes (tomllib is Python 3.11+, the project
    supports 3.10)."""
    keys: dict[str, str] = {}
    table = ""
    for line in text.splitlines():
        match = TOML_LINE.match(line)
        if match and match["table"]:
            table = match["table"].replace('"', "")
        elif match and not line.lstrip().startswith("#"):
            keys[f"{table}.{match['key']}" if table else match["key"]] = match["value"]
    return keys


def _containerd_files(tmp_path: Path, extra_vars: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    rendered = _render_role(
        tmp_path,
        "containerd",
        {
            "config.toml": _template("containerd", "config.toml"),
            "net.conflist": "{{ __containerd_cni_conflist | to_nice_json }}",
        },
        extra_vars,
    )
    return _toml_keys(rendered["config.toml"]), json.loads(rendered["net.conflist"])


@pytest.mark.parametrize(
    ("service_mgr", "has_sys_resource", "systemd_cgroup", "restrict"),
    [
        pytest.param("systemd", False, True, True, id="systemd-container-without-sys-resource"),
        pytest.param("systemd", True, True, False, id="systemd-host"),
        pytest.param("sysvinit", False, False, True, id="no-systemd-without-sys-resource"),
    ],
)
def test_containerd_config_enables_the_cri_plugin_for_this_host(
    tmp_path: Path, service_mgr: str, has_sys_resource: bool, systemd_cgroup: bool, restrict: bool
) -> None:
    config, conflist = _containerd_files(
        tmp_path,
        {
            "ansible_facts": {"service_mgr": service_mgr},
            "__containerd_proc_status": {"content": _capbnd_status(has_sys_resource)},
        },
    )
    cri = "plugins.io.containerd.grpc.v1.cri"
    assert config["version"] == "2"
    assert config["grpc.address"] == '"/run/containerd/containerd.sock"'
    assert "disabled_plugins" not in config  # containerd.io's own config.toml disables the CRI plugin
    assert config[f"{cri}.sandbox_image"] == '"registry.k8s.io/pause:3.10"'
    assert config[f"{cri}.restrict_oom_score_adj"] == str(restrict).lower()
    runc = f"{cri}.containerd.runtimes.runc"
    assert config[f"{runc}.runtime_type"] == '"io.containerd.runc.v2"'
    assert config[f"{runc}.options.SystemdCgroup"] == str(systemd_cgroup).lower()
    assert config[f"{cri}.cni.bin_dir"] == '"/usr/lib/cni"'
    assert config[f"{cri}.cni.conf_dir"] == '"/etc/cni/net.d"'
    assert [p["type"] for p in conflist["plugins"]] == ["bridge", "portmap"]
    assert conflist["plugins"][0]["ipam"]["type"] == "host-local"
    assert conflist["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.97.0.0/16"}]]
    assert conflist["plugins"][1]["capabilities"] == {"portMappings": True}


def test_containerd_settings_override_the_detection(tmp_path: Path) -> None:
    config, _ = _containerd_files(
        tmp_path,
        {
            "ansible_facts": {"service_mgr": "systemd"},
            "containerd_cgroup_driver": "cgroupfs",
            "containerd_restrict_oom_score_adj": "always",
            "pykubelet_pod_infra_container_image": "example.org/pause:9",
        },
    )
    cri = "plugins.io.containerd.grpc.v1.cri"
    assert config[f"{cri}.restrict_oom_score_adj"] == "true"
    assert config[f"{cri}.containerd.runtimes.runc.options.SystemdCgroup"] == "false"
    assert config[f"{cri}.sandbox_image"] == '"example.org/pause:9"'


def _this_host_has_sys_resource() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return bool(int(line.split()[1], 16) >> 24 & 1)
    raise AssertionError("/proc/self/status has no CapBnd line")


def test_containerd_preflight_reads_capbnd_on_this_host(tmp_path: Path) -> None:
    """The role's own preflight (read-only: stat, slurp, dpkg-query) decides restrict_oom_score_adj for this
    host as pykubelet's node.py does."""
    result = _playbook(
        tmp_path,
        [
            {
                "name": "Run the containerd role's preflight",
                "ansible.builtin.include_role": {
                    "name": "containerd",
                    "tasks_from": "preflight",
                    "public": True,
                },
            },
            {
                "name": "Show the decision",
                "ansible.builtin.debug": {"msg": "restrict={{ __containerd_restrict_oom }}"},
            },
        ],
        gather_facts=True,
    )
    assert result.returncode == 0, output(result)
    assert f"restrict={not _this_host_has_sys_resource()}" in result.stdout, output(result)


def test_the_lab_role_looks_for_containerds_image_names(tmp_path: Path) -> None:
    images = ["busybox:1.35", "registry.k8s.io/pause:3.10", "someone/app:1", "localhost:5000/app:2"]
    rendered = _render_role(
        tmp_path,
        "lab",
        {"names.json": "{{ __lab_preload_full_names | to_json }}"},
        {"lab_preload_images": images},
    )
    assert json.loads(rendered["names.json"]) == [
        "docker.io/library/busybox:1.35",
        "registry.k8s.io/pause:3.10",
        "docker.io/someone/app:1",
        "localhost:5000/app:2",
    ]
