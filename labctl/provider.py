"""Which Vagrant provider ``./lab up`` uses: a hypervisor that works, else the docker provider.

Decided from what the host has (commands on PATH, device nodes, the libvirt socket) and from Vagrant's own
index of created machines, never by asking ``vagrant status``: that stops with "No usable default provider"
on a fresh machine whose Docker engine is not installed yet, which is exactly when ``./lab up`` and
``./lab provider`` must answer. A hypervisor counts only when it would work: VirtualBox with its kernel
driver loaded, libvirt with /dev/kvm and the vagrant-libvirt plugin; the reason says what was missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from labctl.steps import LabError

PROVIDERS = ("virtualbox", "libvirt", "docker")
LIBVIRT_SOCKET = "/var/run/libvirt/libvirt-sock"


@dataclass(frozen=True)
class ProviderChoice:
    name: str
    reason: str


def choose(
    requested: str | None,
    *,
    env: Mapping[str, str],
    created: set[str],
    which: Callable[[str], str | None],
    exists: Callable[[str], bool],
    platform: str,
    libvirt_plugin: Callable[[], bool],
) -> ProviderChoice:
    """An explicit choice (``--provider``, ``LAB_PROVIDER``, ``VAGRANT_DEFAULT_PROVIDER``) wins; machines
    that already exist (``created``: their providers) keep theirs; then VirtualBox, libvirt, docker.
    """
    for source, value in (
        ("--provider", requested),
        ("LAB_PROVIDER", env.get("LAB_PROVIDER")),
        ("VAGRANT_DEFAULT_PROVIDER", env.get("VAGRANT_DEFAULT_PROVIDER")),
    ):
        if value:
            if value not in PROVIDERS:
                raise LabError(f"{source}={value}: the lab knows the providers {', '.join(PROVIDERS)}")
            return ProviderChoice(value, f"asked for with {source}")
    if len(created) == 1:
        return ProviderChoice(next(iter(created)), "the lab's machines were created with it")
    notes: list[str] = []
    if which("VBoxManage"):
        if not platform.startswith("linux") or exists("/dev/vboxdrv"):
            return ProviderChoice("virtualbox", "VirtualBox is installed (VBoxManage)")
        notes.append("VirtualBox is installed but its kernel driver is not loaded (no /dev/vboxdrv)")
    if which("virsh") and exists(LIBVIRT_SOCKET):
        if not exists("/dev/kvm"):
            notes.append("libvirt runs but there is no /dev/kvm")
        elif not libvirt_plugin():
            notes.append("libvirt runs but the vagrant-libvirt plugin is not installed")
        else:
            return ProviderChoice("libvirt", "libvirt answers and the vagrant-libvirt plugin is installed")
    why = "; ".join(notes) if notes else "no VirtualBox or libvirt here"
    return ProviderChoice("docker", f"{why}: a systemd container on the Docker engine")
