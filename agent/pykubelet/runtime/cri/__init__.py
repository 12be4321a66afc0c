"""The CRI runtime: CRI v1 over gRPC (containerd), with PyPI's ``container-runtime-interface-api`` stubs.

The only package that imports gRPC's CRI stubs; everything above ``runtime/`` sees the runtime-neutral
:class:`~pykubelet.runtime.api.Runtime`.
"""

from pykubelet.runtime.cri.runtime import CriRuntime

__all__ = ["CriRuntime"]
