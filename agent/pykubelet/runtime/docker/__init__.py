"""Docker, driven the way dockershim drove it: ``k8s_`` names, ``io.kubernetes.*`` labels, a pause container.

The only package that imports the Docker SDK (a test checks it); everything above ``runtime/`` sees the
runtime-neutral :class:`~pykubelet.runtime.api.Runtime`.
"""

from pykubelet.runtime.docker.runtime import API_VERSION, DockerRuntime

__all__ = ["API_VERSION", "DockerRuntime"]
