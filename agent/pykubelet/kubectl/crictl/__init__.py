"""``pykubelet crictl``: crictl's read-only views of a CRI runtime, for machines that have no crictl.

crictl (kubernetes-sigs/cri-tools) is how a node's owner looks past the kubelet at the runtime itself,
and Debian 12 does not package it. ``pods``, ``ps [-a]``, ``inspectp``, ``inspect``, ``images`` and
``logs`` ask the runtime over CRI v1 (the ``cri_api.v1`` stubs) and print crictl's columns, its time and
size wording, its 13-character ids and its ``{"info": ..., "status": ...}`` JSON, so what a learner reads
here reads the same on a kubeadm node later. IDs may be unique prefixes, as crictl's are.

:mod:`.views` is pure (messages in, text out) and unit-tested without a runtime; :mod:`.command` talks to
one. Every failure (no socket, permission, an unknown or ambiguous id, a Docker endpoint) is one
``error: ...`` line and exit code 1, never a traceback.
"""

from pykubelet.kubectl.crictl.command import CrictlError, add_parser, run

__all__ = ["CrictlError", "add_parser", "run"]
