"""``pykubelet get|describe|logs``: kubectl's views of a lone kubelet, computed the way kubectl does.

There is no API server, so these commands read the agent's read-only port (``/pods``, ``/events``) and,
for logs, the local Docker engine. The printers follow kubectl's own algorithms (``printPod``,
``describePod``), so what a person learns to read here reads the same on a real cluster.
"""
