"""The HTTP source: poll ``--manifest-url`` for pods (``pkg/kubelet/config/http.go``).

The body may be one Pod or a PodList (or List), YAML or JSON, decoded by exactly the file source's
decoder (``manifest.load_pods``: same limits, same messages), in a worker thread so a hostile body never
stalls the event loop. Pods from here carry ``kubernetes.io/config.source: http`` and their uid hashes
the URL, so the same pod from a file and from the URL are two pods. Each item is validated on its own:
a bad item is reported with its path (``items[2].spec.containers[0].image: Required value``) and the
others run.

A fetch reads the whole body, chunk by chunk, up to 10 MiB and within one deadline for the whole
exchange (the kubelet's ``http.Client{Timeout: 10s}``), so a body sent in pieces arrives whole and a
server that drips bytes or never ends is a failed fetch, not a short list. Redirects are followed here,
at most 10 as Go's client does, and ``--manifest-url-header`` values (often tokens) go only to the
configured origin (scheme, host and port).

When a fetch fails for any reason (unreachable, a timeout, a 404, a body too big or malformed, a bug),
the reason is logged once per change and the last good set keeps running until the URL answers again:
a flaky web server must not take a node's pods down. Until a first good answer the source is not "seen",
so a restarted agent does not mistake "not fetched yet" for "deleted". As in the kubelet, an empty body
(zero bytes, status 200) is an answer: the URL serves no pods.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Final

import aiohttp
from yarl import URL

from pykubelet.config.file import FileResult, Snapshot, log_warnings, seen_now
from pykubelet.manifest import ManifestError, StaticPod, load_pods
from pykubelet.supervisor import cancel_all, spawn

log = logging.getLogger("pykubelet.config.url")

MAX_BODY: Final = 10 * 1024 * 1024  # as a manifest file
TIMEOUT: Final = 10.0  # seconds for a whole fetch: connect, redirects, headers and the last byte
MAX_REDIRECTS: Final = 10  # Go's http.Client: "stopped after 10 redirects"
SEEN_ANNOTATION: Final = "kubernetes.io/config.seen"
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})

_Origin = tuple[str, str | None, int | None]


class URLSource:
    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        node_name: str,
        check_frequency: float,
        on_update: Callable[[Snapshot], None],
        *,
        strict: bool = False,
        timeout: float = TIMEOUT,
        max_body: int = MAX_BODY,
    ) -> None:
        self.url = url
        self.strict = strict  # --strict-manifests: an unknown field refuses the pod
        # Usually urlheaders.parse_headers' MultiDict (a repeated name keeps every value): its items() give
        # every pair, and each is sent as its own header line, as Go's req.Header sends a []string.
        self.headers = headers
        self.node_name = node_name
        self.check_frequency = check_frequency
        self.on_update = on_update
        self.timeout = timeout
        self.max_body = max_body
        self.seen = False
        self._origin = _origin(URL(url))
        self._last_good: Snapshot = {}
        self._last_body: bytes | None = None
        self._last_error = ""
        self._last_publish_error = ""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.poll()  # never raises: a bad answer at start-up is reported and the agent starts
        self._task = spawn("url-source", self._loop)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_all([self._task])

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_frequency)
            await self.poll()

    async def poll(self) -> None:
        """Fetch and decode once; publish the new set, or keep the last good one and say why.

        Nothing but cancellation leaves this method: whatever goes wrong, a bug included, is a failed
        fetch, tried again at the next period.
        """
        try:
            body = await self._fetch()
            snapshot = await self._decode(body)
        except asyncio.CancelledError:
            raise
        except _FetchError as exc:
            self._fail(str(exc))
        except ManifestError as exc:
            self._fail(exc.reason)
        except Exception as exc:  # a bug must cost one poll, never the source
            self._fail(f"unexpected {type(exc).__name__}: {exc}", exc)
        else:
            self._succeed(body, snapshot)

    # -- fetching ----------------------------------------------------------------------------------

    async def _fetch(self) -> bytes:
        """The whole body at the URL, redirects followed, within the deadline and the size cap."""
        # sock_read fails a silent server early; wait_for bounds the whole exchange, which a server
        # dripping one byte a second would otherwise stretch forever. (Not asyncio.timeout: the lab's
        # Ubuntu 22.04 runs Python 3.10.)
        timeout = aiohttp.ClientTimeout(sock_connect=self.timeout, sock_read=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as session:
                return await asyncio.wait_for(self._follow(session), self.timeout)
        except asyncio.TimeoutError:
            raise _FetchError(f"no complete answer within {self.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise _FetchError(f"cannot fetch: {exc or type(exc).__name__}") from None

    async def _follow(self, session: aiohttp.ClientSession) -> bytes:
        """GET, following redirects by hand so the custom headers never leave the configured origin."""
        url = URL(self.url)
        visited = {url}
        for _ in range(MAX_REDIRECTS + 1):
            # As (name, value) pairs: aiohttp sends each pair, whatever Mapping the headers came in.
            headers = list(self.headers.items()) if _origin(url) == self._origin else []
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in _REDIRECT_STATUSES:
                    url = _redirect_target(url, response)
                    if url in visited:
                        raise _FetchError(f"redirect loop: {url} was already visited")
                    visited.add(url)
                    continue
                if response.status != 200:
                    where = "" if url == URL(self.url) else f" (redirected to {url})"
                    raise _FetchError(f"the URL answered {response.status} {response.reason}{where}")
                return await self._read_body(response)
        raise _FetchError(f"stopped after {MAX_REDIRECTS} redirects")

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        """Every chunk until the end of the body (``read(n)`` returns only what is buffered)."""
        too_big = f"the body is over the {_size(self.max_body)} limit for manifests"
        if response.content_length is not None and response.content_length > self.max_body:
            raise _FetchError(too_big)
        body = bytearray()
        async for chunk in response.content.iter_any():
            body += chunk
            if len(body) > self.max_body:
                raise _FetchError(too_big)
        return bytes(body)

    # -- decoding and publishing ---------------------------------------------------------------------

    async def _decode(self, body: bytes) -> Snapshot:
        """One Pod or a PodList -> one result per pod; an unchanged body is not decoded again."""
        if body == self._last_body:
            return self._last_good
        if not body:
            return {}
        results = await asyncio.to_thread(
            load_pods, body, self.url, self.node_name, "http", strict=self.strict
        )
        previous = {r.pod.uid: r.pod for r in self._last_good.values() if r.pod is not None}
        snapshot: Snapshot = {}
        for index, result in enumerate(results):
            key = f"{self.url}#{index}" if len(results) > 1 else self.url
            snapshot[key] = self._result(key, result, previous)
        return snapshot

    def _result(
        self, key: str, result: StaticPod | ManifestError, previous: dict[str, StaticPod]
    ) -> FileResult:
        if isinstance(result, ManifestError):
            log.error("Could not process a pod from the manifest URL: %s", result.reason, extra={"file": key})
            return FileResult(key, None, result)
        pod = previous.get(result.uid)
        if pod is None:  # a new or changed pod: seen now, and its warnings said once
            pod = result
            pod.metadata.setdefault("annotations", {})[SEEN_ANNOTATION] = seen_now()
            log_warnings(log, key, pod.warnings)
        return FileResult(key, pod)

    def _succeed(self, body: bytes, snapshot: Snapshot) -> None:
        if not body:
            self._report(
                "zero-length data received: the URL serves no pods, so none run from it", logging.WARNING
            )
        elif self._last_error:
            log.info("The manifest URL answers again", extra={"file": self.url})
            self._last_error = ""
        self._last_good = snapshot
        self._last_body = body
        self.seen = True
        self._publish(snapshot)

    def _fail(self, reason: str, exc: BaseException | None = None) -> None:
        kept = sum(1 for r in self._last_good.values() if r.pod is not None)
        self._report(
            f"{reason}; keeping the last good set ({kept} pods) until it answers again", logging.ERROR, exc
        )
        if self.seen:
            snapshot = dict(self._last_good)
            snapshot[self.url + " (fetch)"] = FileResult(self.url, None, ManifestError(self.url, reason))
            self._publish(snapshot)

    def _report(self, message: str, level: int, exc: BaseException | None = None) -> None:
        """Log a problem once per change, not at every period."""
        if message != self._last_error:
            log.log(
                level, "Could not read the manifest URL: %s", message, extra={"file": self.url}, exc_info=exc
            )
            self._last_error = message

    def _publish(self, snapshot: Snapshot) -> None:
        """Hand the set on; a failing consumer is logged once per error and gets the set again next period."""
        try:
            self.on_update(snapshot)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            if text != self._last_publish_error:
                log.error("Handing on the manifest URL's pods failed: %s", text, exc_info=exc)
                self._last_publish_error = text
        else:
            self._last_publish_error = ""


class _FetchError(Exception):
    pass


def _origin(url: URL) -> _Origin:
    """What must match for the custom headers to be sent: scheme, host and (default-resolved) port."""
    return (url.scheme.lower(), (url.host or "").lower() or None, url.port)


def _redirect_target(url: URL, response: aiohttp.ClientResponse) -> URL:
    """The next URL of a redirect, a relative ``Location`` resolved against the current one."""
    location = response.headers.get("Location")
    if not location:
        raise _FetchError(f"the URL answered {response.status} without a Location to follow")
    try:
        target = url.join(URL(location))
    except ValueError as exc:
        raise _FetchError(f"the URL redirected to an invalid Location {location!r}: {exc}") from None
    if target.scheme not in ("http", "https"):
        raise _FetchError(f"the URL redirected to {location!r}: only http and https are followed")
    return target


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"
