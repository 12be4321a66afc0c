"""The file source: a manifest directory (or one file) -> the full set of desired pods.

As the kubelet's ``pkg/kubelet/config/file.go``: every regular file whose name does not start with "."
is a manifest, whatever its extension; no recursion; one Pod per file; files over 10 MiB are refused.
inotify (asyncinotify: its descriptor sits in the event loop) triggers a rescan within milliseconds
of a write, and a full relist every ``--file-check-frequency`` catches anything inotify missed. A
missing directory is logged and retried.

Each scan re-reads only files whose inode, size or mtime changed, and always produces the *whole*
snapshot (file -> pod or error), like the kubelet's ``SET`` updates: the consumer diffs it.

An edit that makes a running pod's file invalid behaves as in the kubelet: the error is reported at once,
the pod keeps running on its last good spec until the next periodic relist, which drops it. A quick fix
within that window (an editor's half-written save, say) therefore restarts nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from asyncinotify import Inotify, Mask

from pykubelet import supervisor
from pykubelet.manifest import FieldError, ManifestError, StaticPod, load_pod
from pykubelet.manifest.errors import IGNORED_FIELD

log = logging.getLogger("pykubelet.config.file")

MAX_MANIFEST_BYTES = 10 * 1024 * 1024
SEEN_ANNOTATION = "kubernetes.io/config.seen"


@dataclass(frozen=True)
class FileResult:
    """What one file yields: a pod, an error, or (after a bad edit, until the relist) both."""

    path: str
    pod: StaticPod | None
    error: ManifestError | None = None


Snapshot = dict[str, FileResult]


def seen_now(ns: int | None = None) -> str:
    """``kubernetes.io/config.seen`` as ``recordFirstSeenTime`` writes it: ``time.Now()`` (local time) in
    Go's fixed layout ``2006-01-02T15:04:05.000000000Z07:00``: always nine fractional digits, and ``Z``
    (Go's ``Z07:00``) wherever the offset is zero, else ``+hh:mm``. ``ns``: epoch nanoseconds, for tests."""
    ns = time.time_ns() if ns is None else ns
    moment = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc).astimezone()
    offset = moment.strftime("%z")
    zone = "Z" if offset in ("+0000", "-0000", "") else f"{offset[:3]}:{offset[3:]}"
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{ns % 1_000_000_000:09d}{zone}"


class FileSource:
    def __init__(
        self,
        path: str,
        node_name: str,
        check_frequency: float,
        on_update: Callable[[Snapshot], None],
        *,
        strict: bool = False,
    ) -> None:
        self.path = os.path.abspath(path)
        self.strict = strict  # --strict-manifests: an unknown field refuses the pod
        self.node_name = node_name
        self.check_frequency = check_frequency
        self.on_update = on_update
        self.seen = False  # a first complete listing has been delivered (the kubelet's "source seen")
        self._cache: dict[str, tuple[tuple[int, int, int, int], FileResult]] = {}
        self._logged: dict[str, str] = {}
        self._watch_restart = asyncio.Event()
        self._dirty = asyncio.Event()
        self._dir_identity: tuple[int, int] | None = None
        self._scan_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.scan(periodic=True)
        self._tasks = [
            supervisor.spawn("file-watch", self._watch_loop),
            supervisor.spawn("file-rescan", self._rescan_loop),
            supervisor.spawn("file-relist", self._relist_loop),
        ]

    async def stop(self) -> None:
        await supervisor.cancel_all(self._tasks)

    # -- triggers ------------------------------------------------------------------------------------

    async def _relist_loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_frequency)
            await self.scan(periodic=True)

    def _watch_dir(self) -> str:
        return self.path if os.path.isdir(self.path) else os.path.dirname(self.path)

    async def _watch_loop(self) -> None:
        """inotify on the directory (the file's directory for a one-file path); restarted when it goes.

        The inotify descriptor sits in the event loop (no polling thread, nothing wakes while nothing
        happens); each event only marks the directory dirty, and ``_rescan_loop`` coalesces a burst of
        events into as few scans as it takes.
        """
        delay = 1.0
        while True:
            directory = self._watch_dir()
            if not await asyncio.to_thread(os.path.isdir, directory):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 20.0)
                continue
            self._watch_restart.clear()
            try:
                with Inotify() as inotify:
                    inotify.add_watch(directory, _WATCH_MASK)
                    self._dirty.set()  # anything that happened before the watch existed
                    delay = 1.0
                    async for event in _until(inotify, self._watch_restart):
                        self._dirty.set()
                        if event.mask & (Mask.IGNORED | Mask.DELETE_SELF | Mask.MOVE_SELF):
                            break  # the directory itself went: watch the new one when it is back
            except OSError as exc:
                log.warning(
                    "Watching the manifest path failed, will retry: %s", exc, extra={"file": directory}
                )
            self._dirty.set()
            await asyncio.sleep(min(delay, 1.0))
            delay = min(delay * 2, 20.0)

    async def _rescan_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self.scan(periodic=False)

    # -- the scan ------------------------------------------------------------------------------------

    async def scan(self, *, periodic: bool) -> Snapshot:
        async with self._scan_lock:
            snapshot = await asyncio.to_thread(self._scan, periodic)
            self.seen = True
            self.on_update(snapshot)
            return snapshot

    def _scan(self, periodic: bool) -> Snapshot:
        paths = self._list_paths()
        snapshot: Snapshot = {}
        for path in paths:
            result = self._read(path, periodic)
            if result is not None:
                snapshot[path] = result
        for gone in set(self._cache) - set(snapshot):
            self._cache.pop(gone, None)
            self._logged.pop(gone, None)
        return snapshot

    def _list_paths(self) -> list[str]:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self._note(
                self.path,
                "path does not exist, ignoring; it is checked again every "
                f"{self.check_frequency:g}s and on inotify events of its parent",
            )
            self._dir_identity = None
            return []
        except OSError as exc:
            self._note(self.path, f"cannot read the manifest path: {exc.strerror}")
            return []
        if stat.S_ISREG(info.st_mode):
            return [self.path]
        identity = (info.st_dev, info.st_ino)
        if self._dir_identity is not None and identity != self._dir_identity:
            self._watch_restart.set()  # the directory was replaced: watch the new one
        self._dir_identity = identity
        self._logged.pop(self.path, None)
        try:
            names = sorted(os.listdir(self.path))
        except OSError as exc:
            self._note(self.path, f"cannot list the manifest directory: {exc.strerror}")
            return []
        return [os.path.join(self.path, n) for n in names if not n.startswith(".")]

    def _read(self, path: str, periodic: bool) -> FileResult | None:
        try:
            info = os.stat(path)  # follows symlinks, as the kubelet's os.Stat does
        except FileNotFoundError:
            if os.path.islink(path):
                return self._fail(
                    path, f"is a symlink to {os.readlink(path)!r}, which does not exist", periodic
                )
            return None  # removed between listing and reading
        except OSError as exc:
            return self._fail(path, f"cannot stat the file: {exc.strerror}", periodic)
        if stat.S_ISDIR(info.st_mode):
            self._note(path, "is a directory, not recursing into manifest path")
            return None
        if not stat.S_ISREG(info.st_mode):
            self._note(path, "is not a regular file (a socket, FIFO or device), skipping")
            return None
        key = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key and not (periodic and cached[1].error and cached[1].pod):
            return cached[1]
        if info.st_size > MAX_MANIFEST_BYTES:
            return self._fail(
                path, f"the file is {info.st_size} bytes, over the 10 MiB limit for a manifest", periodic, key
            )
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_MANIFEST_BYTES + 1)
        except OSError as exc:
            return self._fail(path, f"cannot read the file: {exc.strerror}", periodic, key)
        try:
            pod = load_pod(data, path, self.node_name, strict=self.strict)
        except ManifestError as exc:
            return self._fail(path, exc, periodic, key)
        except Exception as exc:  # a bug hit by this file must not stop the scan of the others
            log.error("Reading the manifest hit a bug in pykubelet", exc_info=exc, extra={"file": path})
            problem = f"pykubelet could not process this file ({type(exc).__name__}: {exc}); please report it"
            return self._fail(path, problem, periodic, key)
        if cached is not None and cached[1].pod is not None and cached[1].pod.uid == pod.uid:
            result = FileResult(path, cached[1].pod)  # identical content: the same pod, the same seen time
        else:
            pod.metadata.setdefault("annotations", {})[SEEN_ANNOTATION] = seen_now()
            result = FileResult(path, pod)
            log_warnings(log, path, pod.warnings)  # once per content: unchanged files come from the cache
        if self._logged.pop(path, None) is not None:
            log.info("Manifest is valid again", extra={"file": path, "pod": str(pod)})
        self._cache[path] = (key, result)
        return result

    def _fail(
        self,
        path: str,
        problem: str | ManifestError,
        periodic: bool,
        key: tuple[int, int, int, int] | None = None,
    ) -> FileResult:
        error = problem if isinstance(problem, ManifestError) else ManifestError(path, problem)
        previous = self._cache.get(path)
        keep = previous[1].pod if previous is not None and not periodic else None
        result = FileResult(path, keep, error)
        if key is not None:
            self._cache[path] = (key, result)
        else:
            self._cache.pop(path, None)
        if previous is not None and previous[1].pod is not None and keep is None:
            log.warning(
                "Manifest still invalid at the relist: stopping its pod",
                extra={"file": path, "pod": str(previous[1].pod)},
            )
        self._note(path, error.reason, error=True, kept=keep)
        return result

    def _note(self, path: str, message: str, *, error: bool = False, kept: StaticPod | None = None) -> None:
        """Log a problem once per change, not on every relist."""
        if self._logged.get(path) == message:
            return
        self._logged[path] = message
        if error:
            suffix = (
                f"; pod {kept} keeps running on its last good spec until the next relist"
                if kept is not None
                else ""
            )
            log.error("Could not process manifest file: %s%s", message, suffix, extra={"file": path})
        else:
            log.info("Ignoring manifest path: %s", message, extra={"file": path})


def log_warnings(logger: logging.Logger, source: str, warnings: tuple[FieldError, ...]) -> None:
    """What a new manifest asks that pykubelet ignores or cannot do, and unknown fields: one line each,
    except the fields only a scheduler or an API server acts on, which share one line."""
    ignored = [w for w in warnings if w.kind == IGNORED_FIELD]
    if ignored:
        notes: dict[str, list[str]] = {}
        for w in ignored:
            notes.setdefault(w.detail, []).append(w.path)
        logger.warning(
            "Manifest fields accepted and ignored: %s",
            "; ".join(f"{', '.join(paths)}: {note}" for note, paths in notes.items()),
            extra={"file": source, "field": ", ".join(w.path for w in ignored)},
        )
    for w in warnings:
        if w.kind != IGNORED_FIELD:
            logger.warning("Manifest warning: %s", w, extra={"file": source, "field": w.path})


_WATCH_MASK = (
    Mask.CREATE
    | Mask.CLOSE_WRITE
    | Mask.MODIFY
    | Mask.ATTRIB
    | Mask.DELETE
    | Mask.MOVED_FROM
    | Mask.MOVED_TO
    | Mask.DELETE_SELF
    | Mask.MOVE_SELF
    | Mask.ONLYDIR
)


async def _until(inotify: Inotify, stop: asyncio.Event) -> AsyncIterator[Any]:
    """The watch's events until ``stop`` is set (the directory was replaced under the same path)."""
    events = aiter(inotify)
    while not stop.is_set():
        next_event = asyncio.ensure_future(anext(events))
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({next_event, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if next_event not in done:
            next_event.cancel()
            stopped.cancel()
            return
        stopped.cancel()
        yield next_event.result()
