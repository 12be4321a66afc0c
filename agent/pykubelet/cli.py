"""The ``pykubelet`` command: the kubelet's flags, ``--config`` for a KubeletConfiguration file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import signal
import sys

from pykubelet import __version__
from pykubelet import log as logsetup
from pykubelet.options import DEFAULT_INFRA_IMAGE, OptionsError, build, parse_duration

log = logging.getLogger("pykubelet.cli")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``, as the kubelet's boolean flags take it (``--enable-ui=false``)."""
    value = text.strip().lower()
    if value in ("1", "t", "true", "yes", "y", "on"):
        return True
    if value in ("0", "f", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}: use true or false")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pykubelet",
        description="A kubelet-style node agent: runs the static pods of a manifest directory on the local "
        "Docker engine, the way the kubelet's Docker runtime did, and serves the kubelet's read-only port.",
        epilog="Flags win over values from --config. Pods keep running when pykubelet stops; the next start "
        "adopts them without restarting a container. To look at a running agent: pykubelet get pods "
        "[-o wide|json|yaml], pykubelet describe pod NAME, pykubelet logs POD [-c C] [-f] [--previous], "
        "pykubelet get events (each takes --server URL).",
    )
    add = p.add_argument
    add(
        "--pod-manifest-path",
        metavar="PATH",
        help="directory of static pod manifests (or one manifest file); every file not starting with '.' "
        "is read, whatever its extension (config: staticPodPath)",
    )
    add(
        "--manifest-url",
        metavar="URL",
        help="also poll this URL for pods: one Pod or a PodList, YAML or JSON (config: staticPodURL); "
        "when it fails, the last good set keeps running",
    )
    add(
        "--manifest-url-header",
        action="append",
        metavar="NAME:VALUE",
        help="an HTTP header for --manifest-url requests; repeat for more (config: staticPodURLHeader)",
    )
    add(
        "--http-check-frequency",
        type=_duration,
        metavar="DURATION",
        help="how often to poll --manifest-url (default 20s; config: httpCheckFrequency)",
    )
    add(
        "--node-labels",
        metavar="K=V,...",
        help="labels of this node, for pods' nodeSelector (kubernetes.io/hostname, kubernetes.io/os and "
        "kubernetes.io/arch are always set)",
    )
    add(
        "--file-check-frequency",
        type=_duration,
        metavar="DURATION",
        help="how often to relist the manifest path in full, besides reacting to inotify events "
        "(default 20s; config: fileCheckFrequency)",
    )
    add(
        "--sync-frequency",
        type=_duration,
        metavar="DURATION",
        help="how often each pod is re-checked when no event arrives (default 1m; config: syncFrequency)",
    )
    add(
        "--hostname-override",
        metavar="NAME",
        help="node name, used in pod names (<name>-<node>) and spec.nodeName (default: the host name, "
        "lower-cased)",
    )
    add(
        "--node-ip",
        metavar="IP",
        help="the node's IP: status.hostIP, and the pod IP of hostNetwork pods (probes go there) "
        "(default: the address of the interface with the default route)",
    )
    add(
        "--root-dir",
        metavar="DIR",
        help="where pod directories and emptyDir volumes live (default /var/lib/pykubelet)",
    )
    add(
        "--pod-logs-dir",
        metavar="DIR",
        help="where /var/log/pods-style container log links are made "
        "(default /var/log/pods; config: podLogsDir)",
    )
    add(
        "--pod-infra-container-image",
        metavar="IMAGE",
        help="image of the infra (pause) container that holds each pod's namespaces "
        f"(default {DEFAULT_INFRA_IMAGE})",
    )
    add(
        "--container-runtime-endpoint",
        metavar="URL",
        help="the Docker engine to use (default: $DOCKER_HOST, else unix:///var/run/docker.sock)",
    )
    add(
        "--read-only-port",
        type=int,
        metavar="PORT",
        help="port of the unauthenticated read-only API: /healthz, /pods, ... (default 10255; 0 disables)",
    )
    add("--address", metavar="IP", help="address the read-only port listens on (default 0.0.0.0)")
    add(
        "--enable-ui",
        type=_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="serve the live lab dashboard under /ui/ on the read-only port (default true; "
        "--enable-ui=false turns it off)",
    )
    add(
        "--strict-manifests",
        type=_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="refuse a manifest with an unknown field (a typo such as imagePullPolice), like kubectl's "
        "strict field validation; without it the pod runs and the field is logged as a warning",
    )
    add("--config", metavar="FILE", help="a KubeletConfiguration YAML file (kubelet.config.k8s.io/v1beta1)")
    add(
        "-v",
        "--v",
        dest="verbosity",
        type=int,
        metavar="N",
        help="log verbosity: 0-3 one line per event, 4 and up debug detail (default 0)",
    )
    add("--version", action="version", version=f"pykubelet {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from pykubelet.kubectl import commands

    if commands.is_subcommand(argv):
        return commands.main(argv)
    args = vars(parser().parse_args(argv))
    config_path = args.pop("config")
    try:
        options = build(args, config_path)
    except OptionsError as exc:
        print(f"pykubelet: {exc}", file=sys.stderr)
        return 2
    logsetup.setup(options.verbosity)
    raise_open_files_limit()
    from pykubelet.kubelet import Kubelet

    try:
        code = asyncio.run(_run(Kubelet(options)))
    except KeyboardInterrupt:
        code = 0
    # A hung engine can leave Docker calls blocked in worker threads for their whole HTTP timeout;
    # waiting for them would make SIGTERM hang. Everything worth keeping is in Docker and on disk.
    logging.shutdown()
    os._exit(code)


def raise_open_files_limit() -> int:
    """Soft ``RLIMIT_NOFILE`` up to the hard limit, as the Go runtime does for the kubelet (Go 1.19+).

    The soft limit is 1024 on most systems, for the sake of old programs that use ``select()``; the
    agent does not, and every connection to the read-only port, every manifest read and every
    Docker call takes a descriptor. Returns the soft limit now in force (it is logged).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:  # e.g. an unlimited hard limit above fs.nr_open
            log.warning("Cannot raise the open-files limit from %d to %d: %s", soft, hard, exc)
    shown = "unlimited" if hard == resource.RLIM_INFINITY else hard
    log.info("Open-files limit", extra={"kv": {"soft": soft, "hard": shown}})
    return soft


async def _run(kubelet: object) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await kubelet.run(stop)  # type: ignore[attr-defined]
    except OSError as exc:
        log.error("Cannot start: %s", exc)
        return 1
    return 0
