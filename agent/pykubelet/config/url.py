"""The HTTP source: poll ``--manifest-url`` for pods (``pkg/kubelet/config/http.go``).

The body may be one Pod or a PodList, YAML or JSON. Pods from here carry
``kubernetes.io/config.source: http`` and their uid hashes the URL, so the same pod from a file and from
the URL are two pods. When the URL fails (unreachable, a timeout, a 404, a body that is too big or
malformed), the reason is logged and the last good set keeps running until the URL answers again:
a flaky web server must not take a node's pods down. Until a first good answer, the source is not
"seen", so a restarted agent does not mistake "not fetched yet" for "deleted".
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import aiohttp
import yaml

from pykubelet.config.file import FileResult, Snapshot, log_warnings, seen_now
from pykubelet.manifest import ManifestError, load_pod

log = logging.getLogger("pykubelet.config.url")

MAX_BODY = 10 * 1024 * 1024
TIMEOUT = 10.0
SEEN_ANNOTATION = "kubernetes.io/config.seen"


class URLSource:
    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        node_name: str,
        check_frequency: float,
        on_update: Callable[[Snapshot], None],
        *,
        strict: bool = False,
    ) -> None:
        self.url = url
        self.strict = strict  # --strict-manifests: an unknown field refuses the pod
        self.headers = headers
        self.node_name = node_name
        self.check_frequency = check_frequency
        self.on_update = on_update
        self.seen = False
        self._last_good: Snapshot = {}
        self._last_body: bytes | None = None
        self._last_error = ""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.poll()
        self._task = asyncio.create_task(self._loop(), name="url-source")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_frequency)
            await self.poll()

    async def poll(self) -> None:
        try:
            body = await self._fetch()
            snapshot = self._parse(body)
        except _FetchError as exc:
            self._fail(str(exc))
            return
        if self._last_error:
            log.info("The manifest URL answers again", extra={"file": self.url})
            self._last_error = ""
        self._last_good = snapshot
        self.seen = True
        self.on_update(snapshot)

    async def _fetch(self) -> bytes:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
                session.get(self.url, headers=self.headers) as response,
            ):
                if response.status != 200:
                    raise _FetchError(f"the URL answered {response.status} {response.reason}")
                body = await response.content.read(MAX_BODY + 1)
        except asyncio.TimeoutError:
            raise _FetchError(f"no answer within {TIMEOUT:g}s") from None
        except aiohttp.ClientError as exc:
            raise _FetchError(f"cannot fetch: {exc}") from exc
        if len(body) > MAX_BODY:
            raise _FetchError("the body is over the 10 MiB limit for manifests")
        return body

    def _parse(self, body: bytes) -> Snapshot:
        """One Pod or a PodList -> one result per pod (each validated on its own, like a file)."""
        if body == self._last_body and self._last_good:
            return self._last_good
        try:
            document = yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise _FetchError(f"the body is not valid YAML or JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise _FetchError("the body must be a Pod or a PodList")
        if document.get("kind") in ("PodList", "List"):
            items = document.get("items") or []
            if not isinstance(items, list):
                raise _FetchError("items: must be a list of Pods")
        else:
            items = [document]
        previous = {r.pod.uid: r.pod for r in self._last_good.values() if r.pod is not None}
        snapshot: Snapshot = {}
        for index, item in enumerate(items):
            key = f"{self.url}#{index}" if len(items) > 1 else self.url
            try:
                pod = load_pod(
                    json.dumps(item).encode(),
                    self.url,
                    self.node_name,
                    config_source="http",
                    strict=self.strict,
                )
            except ManifestError as exc:
                log.error(
                    "Could not process the pod from the manifest URL: %s", exc.reason, extra={"file": key}
                )
                snapshot[key] = FileResult(key, None, ManifestError(key, exc.errors))
                continue
            if pod.uid in previous:
                pod = previous[pod.uid]
            else:
                pod.metadata.setdefault("annotations", {})[SEEN_ANNOTATION] = seen_now()
                log_warnings(log, key, pod.warnings)
            snapshot[key] = FileResult(key, pod)
        self._last_body = body
        return snapshot

    def _fail(self, reason: str) -> None:
        if reason != self._last_error:
            kept = sum(1 for r in self._last_good.values() if r.pod is not None)
            log.error(
                "Could not read the manifest URL: %s; keeping the last good set (%d pods) until it "
                "answers again",
                reason,
                kept,
                extra={"file": self.url},
            )
            self._last_error = reason
        if self.seen:
            snapshot = dict(self._last_good)
            snapshot[self.url + " (fetch)"] = FileResult(self.url, None, ManifestError(self.url, reason))
            self.on_update(snapshot)


class _FetchError(Exception):
    pass
