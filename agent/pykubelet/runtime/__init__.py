"""The only code that talks to the container engine.

``docker`` is the thin adapter over the Docker SDK (the dockershim of this agent); ``naming`` and
``labels`` encode a pod's identity into Docker names and labels, which are the source of truth for what
runs; ``manager`` turns a desired pod into runtime actions (the kubelet's ``kuberuntime`` manager).
"""
