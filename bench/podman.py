"""The peer: ``podman kube play`` / ``podman kube down`` of the same Pod YAML, when podman is usable.

Podman (Debian's 4.3) needs three things on these machines (shared/reference/environment.md): catatonit
for its pause image, a containers.conf whose ``default_ulimits`` stay below what a process without
CAP_SYS_RESOURCE may set, and, on a host where systemd containers have run with the host's cgroup
tree, the empty cgroup-v1 controller directories mounted. The last one is done in a private mount
namespace (``unshare -m``), so the host is left as it was; every podman command of one run happens
inside one such namespace, in ``podman_peer.sh``.

``kube play`` returns once every container of the pod has been started, so its wall time is the
start latency; ``kube down`` kills at once (timeout 0) and removes the pod, so its wall time is the
removal. Images are copied from Docker (``docker save | podman load``): nothing is pulled.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "podman_peer.sh"
CONTAINERS_CONF = """\
[containers]
# podman defaults nofile/nproc to 1048576; raising a hard limit needs CAP_SYS_RESOURCE, which this host lacks.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""


class Podman:
    def __init__(self, workdir: Path, images: tuple[str, ...]) -> None:
        self.workdir = workdir
        self.images = images
        self.version = ""
        self.unusable = ""  # why podman cannot be measured here, when it cannot
        self.conf = workdir / "containers.conf"

    def prepare(self) -> bool:
        """Find podman, load the images, and play one pod to see that it works; False with a reason."""
        binary = shutil.which("podman")
        if binary is None:
            self.unusable = "podman is not installed (apt-get install podman catatonit)"
            return False
        if shutil.which("unshare") is None:
            self.unusable = "unshare (util-linux) is missing"
            return False
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(CONTAINERS_CONF)
        version = self._run(["podman", "version", "--format", "{{.Client.Version}}"], timeout=30)
        self.version = version.stdout.strip() if version.returncode == 0 else "?"
        missing = [
            image for image in self.images
            if self._run(["podman", "image", "exists", f"docker.io/library/{image}"], timeout=30).returncode
        ]  # fmt: skip
        if missing:
            save = subprocess.Popen(["docker", "save", *missing], stdout=subprocess.PIPE)
            load = subprocess.run(
                ["podman", "load"], stdin=save.stdout, capture_output=True, text=True, timeout=300,
                env=self._env(), check=False,
            )  # fmt: skip
            save.wait(timeout=60)
            if load.returncode != 0:
                self.unusable = f"podman load failed: {_last_line(load.stderr)}"
                return False
        smoke = self.workdir / "smoke.yaml"
        smoke.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench-podman-smoke"},
            "spec": {"containers": [{"name": "app", "image": "busybox:1.35", "command": ["sleep", "60"]}]},
        }))  # fmt: skip
        results = self.play_down([smoke], timeout=120)
        if not results or results[0].get("error"):
            error = results[0]["error"] if results else "no output from podman_peer.sh"
            self.unusable = f"podman kube play fails here: {error}"
            return False
        return True

    def play_down(self, files: list[Path], timeout: float) -> list[dict[str, Any]]:
        """play + check + down of each file in turn, in one private mount namespace; times in seconds."""
        proc = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "bash", str(SCRIPT), *map(str, files)],
            capture_output=True, text=True, timeout=timeout, env=self._env(), check=False,
        )  # fmt: skip
        results = []
        for line in proc.stdout.splitlines():
            parts = line.split(maxsplit=4)
            if not parts or parts[0] != "RESULT":
                continue
            _, name, play_ms, down_ms, rest = (*parts, "")[:5]
            running, _, error = rest.partition(" ")
            results.append({
                "pod": name,
                "play": int(play_ms) / 1000,
                "down": int(down_ms) / 1000,
                "running": int(running) if running.isdigit() else 0,
                "error": error.strip(),
            })  # fmt: skip
        if not results and proc.returncode != 0:
            results.append({"pod": "", "error": _last_line(proc.stderr) or f"exit {proc.returncode}"})
        return results

    def _env(self) -> dict[str, str]:
        import os

        return {**os.environ, "CONTAINERS_CONF": str(self.conf)}

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=self._env(), check=False
        )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
