"""``pykubelet logs``: a container's output, read from the local Docker engine.

The agent's ``/pods`` says which Docker container is the current instance (``containerID``) and which
was the previous one (``lastState.terminated.containerID``), exactly what ``kubectl logs [--previous]``
needs; the bytes then come from Docker, as the kubelet's ``/containerLogs`` would have served them.
The kubelet serves those on its authenticated port, never on the read-only one, so reading them takes
what the Docker socket takes: root or the docker group. Without it the user is told exactly that, and
the command to rerun.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import docker
import docker.errors
import requests.exceptions

from pykubelet.runtime.docker import API_VERSION

DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"


class LogsError(Exception):
    """A logs request that cannot be served; the message says why and what to try."""


class NeedsRoot(LogsError):
    """The Docker socket refused this user: the caller adds the command to rerun with sudo."""


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError under a Docker SDK / requests / urllib3 error (they wrap it in args and causes)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and item.errno is not None:
            return item
        todo += [*item.args, item.__cause__, item.__context__]
    return None


def pick_container(pod: dict[str, Any], container: str | None, previous: bool) -> str:
    """The Docker id of the instance to read, with kubectl's messages when there is none."""
    spec_names = [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]
    name = pod["metadata"]["name"]
    if container is None:
        if len(pod["spec"]["containers"]) > 1:
            choices = " ".join(c["name"] for c in pod["spec"]["containers"])
            raise LogsError(f"a container name must be specified for pod {name}, choose one of: [{choices}]")
        container = pod["spec"]["containers"][0]["name"]
    if container not in spec_names:
        raise LogsError(f"container {container} is not valid for pod {name}")
    statuses = pod.get("status", {})
    status = next(
        (
            s
            for s in statuses.get("containerStatuses", []) + statuses.get("initContainerStatuses", [])
            if s["name"] == container
        ),
        None,
    )
    if previous:
        cid = ((status or {}).get("lastState", {}).get("terminated") or {}).get("containerID")
        if not cid:
            raise LogsError(f'previous terminated container "{container}" in pod "{name}" not found')
    else:
        cid = (status or {}).get("containerID")
        if not cid:
            reason = ((status or {}).get("state", {}).get("waiting") or {}).get("reason", "ContainerCreating")
            raise LogsError(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    return cid.removeprefix("docker://")


def stream_logs(container_id: str, follow: bool, tail: int | None, endpoint: str | None = None) -> None:
    where = endpoint or os.environ.get("DOCKER_HOST") or DEFAULT_ENDPOINT
    try:
        client = (
            docker.APIClient(base_url=endpoint, version=API_VERSION)
            if endpoint
            else docker.APIClient(version=API_VERSION)
        )
        output = client.logs(container_id, stream=True, follow=follow, tail="all" if tail is None else tail)
        for chunk in output:
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (| head): the caller ends quietly
        raise
    except docker.errors.NotFound as exc:
        raise LogsError("that container is gone from Docker (it was garbage-collected)") from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        cause = _os_error(exc)
        if isinstance(cause, PermissionError):
            raise NeedsRoot(
                f"reading logs goes through the Docker engine's socket ({where}), which needs root or the "
                "docker group"
            ) from exc
        if isinstance(cause, (FileNotFoundError, ConnectionRefusedError)):
            raise LogsError(
                f"no Docker engine answers at {where}: logs are read from the engine on the machine where "
                "pykubelet runs (in the lab: ./lab ssh, then pykubelet logs ...), or name it with "
                "--container-runtime-endpoint"
            ) from exc
        raise LogsError(f"cannot read logs from the Docker engine at {where}: {cause or exc}") from exc
