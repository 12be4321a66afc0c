"""A tiny client of the agent's read-only port: every way it can fail becomes one sentence for a person.

The read-only port needs no credentials, so ``get``, ``describe`` and ``get events`` work for any user on
the machine. What can go wrong is all about where we looked: nothing listening, a URL that is not one, or
something else answering there; the error says which, and what to try.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_SERVER = "http://127.0.0.1:10255"


class AgentUnreachable(Exception):
    """No pykubelet answered as one should: the message says where we looked and what to do."""


def fetch(server: str, path: str, timeout: float = 5.0) -> Any:
    """The JSON that ``server`` + ``path`` answers."""
    if not server.startswith(("http://", "https://")):
        raise AgentUnreachable(
            f"--server {server}: not a URL; the read-only port is such as --server {DEFAULT_SERVER}"
        )
    url = server.rstrip("/") + path
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise AgentUnreachable(
            f"{url} answered {exc.code} {exc.reason}: is {server} the read-only port of a pykubelet?"
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AgentUnreachable(
            f"no pykubelet answers at {server} ({reason}). Is it running? Start it with `./lab run` or "
            "`pykubelet --pod-manifest-path DIR`, or point at it with --server URL."
        ) from exc
    try:
        return json.loads(body.decode())
    except ValueError as exc:
        raise AgentUnreachable(
            f"{url} answered, but not with JSON: is {server} the read-only port of a pykubelet?"
        ) from exc


def fetch_items(server: str, path: str) -> list[dict[str, Any]]:
    """The ``items`` of a list the agent serves (``/pods``, ``/events``), checked to be one."""
    payload = fetch(server, path)
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise AgentUnreachable(
            f"{server.rstrip('/')}{path} answered JSON without a list of items: "
            f"is {server} the read-only port of a pykubelet?"
        )
    return items


def find_pod(pods: list[dict[str, Any]], name: str, namespace: str | None) -> dict[str, Any] | None:
    """A pod by its full name (``web-node1``) or by its manifest name (``web``), as a convenience."""
    matches = [p for p in pods if namespace is None or p["metadata"].get("namespace") == namespace]
    for pod in matches:
        if pod["metadata"]["name"] == name:
            return pod
    node_suffixed = [p for p in matches if p["metadata"]["name"] == f"{name}-{p['spec'].get('nodeName', '')}"]
    return node_suffixed[0] if len(node_suffixed) == 1 else None
