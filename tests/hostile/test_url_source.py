"""Hostile bodies at ``--manifest-url``: every content case, then what only an HTTP server can do.

One agent polls the test's server every second (the ``url_agent`` fixture); its canary pod comes from
the URL, so every body that carries pods carries the canary too, and a failed fetch must keep it (the
last good set stays). Each case checks the error names the URL, the canary pod, the canary tree, and
that a fresh pod served afterwards starts.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.hostile.cases import CONTENT_CASES, MIB, POD_META, Case, good_pod
from tests.hostile.conftest import CANARY_POD, SECRET, CaseRun, Hostile, canary_pod, wait_gone, wait_outcome
from tests.hostile.server import pod_list
from tests.integration.conftest import wait_for


def body_for(content: bytes | dict[str, Any]) -> bytes:
    """A pod (a dict, or small YAML text of one Pod) goes in a PodList beside the canary; other bytes raw."""
    if isinstance(content, dict):
        return pod_list([canary_pod(), content])
    text = content.decode("utf-8", errors="replace")
    if len(content) > MIB or not text.startswith(POD_META) or "\n---\n" in text or "\x00" in text:
        return content
    item = "\n".join(("- " if i == 0 else "  ") + line for i, line in enumerate(text.splitlines()))
    return pod_list([canary_pod()]) + item.encode() + b"\n"


@pytest.mark.parametrize("case", [c for c in CONTENT_CASES if "url" in c.sources], ids=lambda c: c.id)
def test_manifest_url_body(url_agent: Hostile, begin_case: Callable[[Hostile], CaseRun], case: Case) -> None:
    h = url_agent
    assert h.server is not None
    run = begin_case(h)
    h.server.serve(body_for(case.build(h.ctx)))
    wait_outcome(h, case, h.server.url, run)
    dropped = (CANARY_POD,) if case.url_drops_pods else ()
    if dropped:
        wait_gone(h, CANARY_POD)
    h.assert_unharmed(run.before, dropped=dropped)
    h.fresh_pod_starts()  # a good body again: the hostile pod, if any, is removed
    wait_gone(h, "hostile")
    if dropped:
        h.remember_canary(CANARY_POD)
    h.assert_unharmed(run.before)


def _chunked(h: Hostile, run: CaseRun) -> None:
    """A five-pod list in 64-byte chunks arrives whole: all five run (it used to be read as a piece)."""
    assert h.server is not None
    names = [f"chunk-{i}" for i in range(4)]
    h.server.serve_pods([canary_pod(), *(good_pod(n) for n in names)], mode="chunked")
    wait_for(
        "every chunked pod Running", lambda: all(h.agent.phase(n) == "Running" for n in names), timeout=90
    )


def _failed_fetch(
    mode: str, expect: tuple[str, ...], body: Callable[[], bytes] | None = None, status: int = 200
) -> Callable[[Hostile, CaseRun], None]:
    def run_case(h: Hostile, run: CaseRun) -> None:
        assert h.server is not None
        h.server.serve(body() if body else pod_list([canary_pod(), good_pod("never")]), mode, status)
        h.reported(h.server.url, expect, run.log_from, timeout=60)
        assert h.agent.pod("never") is None, "a pod from a failed fetch runs"

    return run_case


def _gzip_bomb() -> bytes:
    """64 KiB on the wire, 64 MiB once inflated: a YAML comment."""
    return gzip.compress(b"#" * (64 * MIB), compresslevel=9)


def _redirect(h: Hostile, run: CaseRun) -> None:
    """A redirect to another origin: followed or refused, the secret headers must not go along."""
    assert h.server is not None
    h.server.serve_pods([canary_pod(), good_pod("redirected")], other=True)
    h.server.serve(b"", mode="redirect")
    wait_for(
        "the redirect refused (an error naming the URL) or followed (the pod from the other origin)",
        lambda: (
            h.agent.phase("redirected") == "Running"
            or any(
                i["file"].startswith(h.server.url) and "error" in i
                for i in h.agent.get("/manifests")["items"]
            )
        ),
        timeout=30,
    )
    leaked = [seen for seen in h.server.headers_seen(other=True) if SECRET in " ".join(seen.values())]
    assert not leaked, f"--manifest-url-header values went to another origin: {leaked}"


def _lone_invalid_pod(h: Hostile, run: CaseRun) -> None:
    """A body of one Pod that decodes but is invalid: upstream returns the error and keeps the last set."""
    assert h.server is not None
    bad = good_pod("lone")
    bad["metadata"]["uid"] = "../../.."
    h.server.serve(yaml.safe_dump(bad).encode())
    h.reported(h.server.url, (r"metadata\.uid",), run.log_from)


def _bad_item(h: Hostile, run: CaseRun) -> None:
    """One bad item (a traversal uid) in a PodList: reported with its index and field; the canary stays."""
    assert h.server is not None
    bad = good_pod("bad-item")
    bad["metadata"]["uid"] = "../../.."
    h.server.serve_pods([canary_pod(), good_pod("listed-ok"), bad])
    h.reported(h.server.url, (r"metadata\.uid",), run.log_from)
    assert h.agent.pod("bad-item") is None


URL_ONLY: dict[str, Callable[[Hostile, CaseRun], None]] = {
    "chunked-podlist": _chunked,
    "dripping-body": _failed_fetch("drip", (r"time|within|deadline|slow",)),
    "endless-body": _failed_fetch("endless", (r"10 MiB|limit|too large|over",)),
    "short-body": _failed_fetch("short", (r"payload|incomplete|complete|closed|length",)),
    "gzip-bomb": _failed_fetch("gzip", (r"10 MiB|limit|too large|over",), _gzip_bomb),
    "status-500-with-pods": _failed_fetch("plain", (r"500",), status=500),
    "html-error-page": _failed_fetch(
        "plain", (r"Pod|mapping|YAML",), lambda: b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
    ),
    "items-not-a-list": _failed_fetch(
        "plain", (r"items",), lambda: b"apiVersion: v1\nkind: PodList\nitems: {a: b}\n"
    ),
    "redirect-cross-origin-with-secret": _redirect,
    "podlist-one-bad-item": _bad_item,
    "lone-invalid-pod": _lone_invalid_pod,
}


@pytest.mark.parametrize("behaviour", list(URL_ONLY))
def test_manifest_url_server(
    url_agent: Hostile, begin_case: Callable[[Hostile], CaseRun], behaviour: str
) -> None:
    h = url_agent
    run = begin_case(h)
    URL_ONLY[behaviour](h, run)
    h.assert_unharmed(run.before)
    h.fresh_pod_starts()
    h.assert_unharmed(run.before)


def test_the_url_agents_file_source_still_works(
    url_agent: Hostile, begin_case: Callable[[Hostile], CaseRun]
) -> None:
    """(d) for the other source of the URL agent: after every hostile body, a manifest file still runs."""
    h = url_agent
    run = begin_case(h)
    path = h.agent.write("from-file.yaml", good_pod("from-file"))
    wait_for("the file pod Running", lambda: h.agent.phase("from-file") == "Running", timeout=60)
    path.unlink()
    wait_gone(h, "from-file")
    h.assert_unharmed(run.before)
