"""The only code that talks to a container runtime.

``api`` is the interface and its records; ``actions`` decides what a pod needs (pure), ``manager`` and
``containers`` carry it out, ``configs`` builds what the runtime is given, ``images`` pulls, ``labels``
keeps a pod's identity in the runtime. ``docker/`` is the one implementation today (dockershim's way).
"""

from __future__ import annotations

from pykubelet.runtime.api import Runtime


def new_runtime(endpoint: str, node: str) -> Runtime:
    """The runtime behind ``endpoint`` (``--container-runtime-endpoint``), scoped to ``node``'s containers."""
    from pykubelet.runtime.docker import DockerRuntime  # only the chosen runtime's client is imported

    return DockerRuntime(endpoint, node)
