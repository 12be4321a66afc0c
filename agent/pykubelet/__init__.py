"""pykubelet: a kubelet-style node agent that runs static pods on the local Docker engine.

The package follows the kubelet's own split: ``config`` (where desired pods come from) ->
``manifest`` (one document -> a validated, defaulted pod) -> ``podworkers`` (one reconcile per pod)
-> ``runtime`` (the only code that talks to Docker) -> ``status`` -> ``server`` (the read-only port).
"""

__version__ = "0.1.0"
