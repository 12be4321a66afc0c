"""A tiny client of the agent's read-only port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_SERVER = "http://127.0.0.1:10255"


class AgentUnreachable(Exception):
    """No agent answered: the message says where we looked and what to do."""


def fetch(server: str, path: str, timeout: float = 5.0) -> Any:
    url = server.rstrip("/") + path
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        raise AgentUnreachable(f"{url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AgentUnreachable(
            f"no pykubelet answers at {server} ({reason}). Is it running? Start it with `./lab run` or "
            "`pykubelet --pod-manifest-path DIR`, or point at it with --server URL."
        ) from exc


def find_pod(pods: list[dict[str, Any]], name: str, namespace: str | None) -> dict[str, Any] | None:
    """A pod by its full name (``web-node1``) or by its manifest name (``web``), as a convenience."""
    matches = [p for p in pods if namespace is None or p["metadata"].get("namespace") == namespace]
    for pod in matches:
        if pod["metadata"]["name"] == name:
            return pod
    node_suffixed = [p for p in matches if p["metadata"]["name"] == f"{name}-{p['spec'].get('nodeName', '')}"]
    return node_suffixed[0] if len(node_suffixed) == 1 else None
