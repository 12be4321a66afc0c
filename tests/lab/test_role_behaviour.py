"""The roles' behaviour that can be shown without a lab machine (seconds, against this host, changing
nothing):

- each role's tag selects that role's tasks (``--list-tasks``: the tasks are imported statically, so the
  listing is what a run with the tag executes);
- docker_users refuses a user the host does not have, naming it, before any task could create it (run in
  check mode, so even a wrong pass could not add a user to this host);
- the rendered KubeletConfiguration and unit: the read-only port on 127.0.0.1 by default, LimitNOFILE
  raised.

The same behaviour on a real systemd host (tags running the roles, check mode on a fresh and on a
converged host, the docker group, the port's address and the limit as the running service has them) is
checked by tests/lab/test_molecule.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.helpers import REPO, lab_env, output, run, tool

ROLES = ("docker", "pykubelet", "lab")
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


def _render(tmp_path: Path, extra_vars: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The pykubelet role's config.yaml and unit, rendered with its defaults and vars (and ``extra_vars``)."""
    role = REPO / "roles" / "pykubelet"
    tasks = [
        {
            "name": f"Render {name}",
            "ansible.builtin.copy": {
                "content": f"{{{{ lookup('ansible.builtin.template', '{role}/templates/{name}.j2') }}}}",
                "dest": str(tmp_path / name),
                "mode": "0644",
            },
        }
        for name in ("config.yaml", "pykubelet.service")
    ]
    vars_files = [str(role / "defaults/main.yml"), str(role / "vars/main.yml")]
    args = ["-e", json.dumps(extra_vars)] if extra_vars else []
    result = _playbook(tmp_path, tasks, *args, vars_files=vars_files)
    assert result.returncode == 0, output(result)
    return yaml.safe_load((tmp_path / "config.yaml").read_text()), (
        tmp_path / "pykubelet.service"
    ).read_text()


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
