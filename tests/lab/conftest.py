"""tests/lab: the lab's tests (labctl, the Ansible content, Molecule, the Vagrant docker-provider lab)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lab: a real Molecule or Vagrant run (minutes; needs Docker and vagrant)"
    )
