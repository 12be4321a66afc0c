"""The ``pykubelet`` command: the kubelet's flags, ``--config`` for a KubeletConfiguration file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import signal
import sys
from collections.abc import Callable
from typing import Any

from pykubelet import __version__
from pykubelet import log as logsetup
from pykubelet.options import OPTIONS, Option, OptionsError, build

log = logging.getLogger("pykubelet.cli")


def _flag_type(option: Option) -> Callable[[str], Any]:
    """The option's reader for argparse: a bad value exits with the reader's own explanation."""

    def read(text: str) -> Any:
        try:
            return option.kind.from_flag(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = option.kind.name  # argparse names the type when a reader fails without a message
    return read


def add_option(p: argparse.ArgumentParser, option: Option) -> None:
    """One declared option as an argparse argument; no default, so a missing flag leaves the file's value."""
    kind = option.kind
    extra: dict[str, Any] = {}
    if kind.bare:
        extra.update(nargs="?", const=True)
    if kind.repeated:
        extra["action"] = "append"
    p.add_argument(
        *option.aliases,
        option.flag,
        dest=option.field,
        type=_flag_type(option),
        metavar=option.metavar,
        help=option.help_text(),
        **extra,
    )


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
    for option in OPTIONS:
        add_option(p, option)
    p.add_argument(
        "--config", metavar="FILE", help="a KubeletConfiguration YAML file (kubelet.config.k8s.io/v1beta1)"
    )
    p.add_argument("--version", action="version", version=f"pykubelet {__version__}")
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
