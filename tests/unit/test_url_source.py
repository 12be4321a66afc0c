"""The URL source against real HTTP servers on 127.0.0.1: whole bodies, deadlines, redirects
(and the custom headers they carry), and hostile bodies.

Each test starts one or two aiohttp servers on loopback (port 0) whose answer it sets per request path
(``url_source_support.py``), polls a :class:`URLSource` with small limits, and looks at the sets it hands on.
No Docker is needed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web

from tests.unit.url_source_support import (
    ITEM,
    POD_LIST,
    Handler,
    Server,
    Updates,
    assert_kept_with_error,
    body,
    good_then,
    make_source,
    pod_list,
    poll,
)
from tests.unit.url_source_support import other_server_fixture as other_server_fixture  # fixture
from tests.unit.url_source_support import server_fixture as server_fixture  # fixture


def chunked(data: bytes, size: int, pause: float) -> Handler:
    """``data`` in ``size``-byte chunks with a pause between: the client sees it arrive in pieces."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(data), size):
            await response.write(data[start : start + size])
            await asyncio.sleep(pause)
        await response.write_eof()
        return response

    return handle


def endless(chunk: bytes, pause: float, *, limit: int = 2000) -> Handler:
    """Writes ``chunk`` every ``pause`` seconds and never ends the body (until the client goes, or
    ``limit`` chunks: every loop here is bounded)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(limit):
                await response.write(chunk)
                await asyncio.sleep(pause)
        except (ConnectionError, RuntimeError):
            pass  # the client gave up, as it should
        return response

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handle


# --- whole bodies ----------------------------------------------------------------------------------------


async def test_a_pod_list_sent_in_many_small_chunks_arrives_whole(server: Server) -> None:
    data = pod_list("a", "b", "c", "d", "e")
    server.routes["/pods"] = chunked(data, size=16, pause=0.002)
    updates = Updates()
    await poll(make_source(server.url(), updates))
    assert updates.names() == {"a", "b", "c", "d", "e"}
    assert len(data) // 16 > 20


async def test_a_dripping_server_is_a_failed_fetch_within_the_deadline(server: Server) -> None:
    _, updates = await good_then(server, endless(b" ", pause=0.05), timeout=0.5)
    assert_kept_with_error(updates, "no complete answer within 0.5s")


async def test_an_endless_body_is_refused_at_the_size_cap(server: Server) -> None:
    _, updates = await good_then(server, endless(b"#" * 4096, pause=0), max_body=64 * 1024)
    assert_kept_with_error(updates, "the body is over the 65536 bytes limit for manifests")


async def test_a_declared_length_over_the_cap_is_refused_before_reading(server: Server) -> None:
    _, updates = await good_then(server, body(b"#" * 70_000), max_body=64 * 1024)
    assert_kept_with_error(updates, "the body is over the 65536 bytes limit")


async def test_a_silent_server_is_a_failed_fetch(server: Server) -> None:
    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3)
        return web.Response(text="too late")

    _, updates = await good_then(server, silent, timeout=0.3)
    assert_kept_with_error(updates, "no complete answer within 0.3s")


async def test_a_404_keeps_the_last_good_set(server: Server) -> None:
    _, updates = await good_then(server, body(b"gone", status=404))
    assert_kept_with_error(updates, "the URL answered 404 Not Found")


async def test_an_unreachable_url_is_a_failed_fetch(server: Server) -> None:
    updates = Updates()
    source = make_source(server.url(), updates)
    server.routes["/pods"] = body(pod_list("a", "b"))
    await poll(source)
    source.url = "http://127.0.0.1:1/pods"  # nothing listens on port 1
    await poll(source)
    assert_kept_with_error(updates, "cannot fetch")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not: [valid", "invalid JSON at line 1, column 2: Expecting property name"),
        (b"not: [valid\n", "invalid YAML at line 2, column 1"),
        (
            b"<html><body>Service Unavailable</body></html>\n",
            "must be a mapping (a Pod object), not a string",
        ),
    ],
)
async def test_a_body_that_is_not_a_pod_keeps_the_last_good_set(
    server: Server, data: bytes, expected: str
) -> None:
    _, updates = await good_then(server, body(data))
    assert_kept_with_error(updates, expected)


async def test_an_empty_body_serves_no_pods_as_in_the_kubelet(server: Server, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, "pykubelet.config.url"):
        source, updates = await good_then(server, body(b""))
    assert updates.last == {} and source.seen
    assert "zero-length data received" in caplog.text


# --- redirects and the custom headers ----------------------------------------------------------------------


async def test_a_redirect_to_another_origin_does_not_carry_the_headers(
    server: Server, other_server: Server
) -> None:
    server.routes["/pods"] = redirect(other_server.url("/elsewhere"))
    other_server.routes["/elsewhere"] = body(pod_list("a"))
    updates = Updates()
    await poll(make_source(server.url(), updates))
    assert updates.names() == {"a"}
    assert server.seen == [("/pods", "secret")]
    assert other_server.seen == [("/elsewhere", None)]


async def test_a_same_origin_redirect_carries_the_headers_and_resolves_a_relative_location(
    server: Server,
) -> None:
    server.routes["/pods"] = redirect("moved/here", status=301)
    server.routes["/moved/here"] = body(pod_list("a"))
    updates = Updates()
    await poll(make_source(server.url(), updates))
    assert updates.names() == {"a"}
    assert server.seen == [("/pods", "secret"), ("/moved/here", "secret")]


async def test_coming_back_to_the_origin_sends_the_headers_again(
    server: Server, other_server: Server
) -> None:
    server.routes["/pods"] = redirect(other_server.url("/bounce"))
    other_server.routes["/bounce"] = redirect(server.url("/final"), status=307)
    server.routes["/final"] = body(pod_list("a"))
    updates = Updates()
    await poll(make_source(server.url(), updates))
    assert updates.names() == {"a"}
    assert other_server.seen == [("/bounce", None)]
    assert server.seen[-1] == ("/final", "secret")


async def test_a_redirect_loop_is_a_failed_fetch(server: Server) -> None:
    server.routes["/loop"] = redirect("/pods")
    _, updates = await good_then(server, redirect("/loop"))
    assert_kept_with_error(updates, "redirect loop: " + server.url() + " was already visited")


async def test_more_than_ten_redirects_is_a_failed_fetch(server: Server) -> None:
    for hop in range(12):
        server.routes[f"/hop{hop}"] = redirect(f"/hop{hop + 1}")
    _, updates = await good_then(server, redirect("/hop0"))
    assert_kept_with_error(updates, "stopped after 10 redirects")
    assert len(server.seen) == 1 + 11  # the good fetch, then the URL and ten hops


async def test_a_redirect_to_another_scheme_is_not_followed(server: Server) -> None:
    _, updates = await good_then(server, redirect("file:///etc/passwd"))
    assert_kept_with_error(updates, "only http and https are followed")


# --- hostile bodies: a clear error, the last good set kept, nothing raised ---------------------------------

LAUGHS = "\n".join(
    ["apiVersion: v1", "kind: Pod", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
).encode()
POD = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: [{name: c, image: busybox}]\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (POD + b"  nodeSelector: {a: !!binary aGk=}\n", "spec.nodeSelector.a: Invalid value"),
        (b"a: &loop [*loop]\n", "nested more than 100 levels deep"),
        (POD + b"  priority: " + b"9" * 5000 + b"\n", "spec.priority: Invalid value: "),
        (LAUGHS, "the document is too large"),
        (POD + b"kind: Pod\n", 'found duplicate key "kind"'),
        (b"\x00\x01", "not a text file"),
        (b"apiVersion: apps/v1\nkind: Deployment\n", "the body must be one Pod, or a PodList"),
        (b"- a\n- b\n", "the document must be a mapping"),
    ],
    ids=["binary", "self-alias", "5000-digit-integer", "alias-bomb", "duplicate-key", "nul", "kind", "list"],
)
async def test_hostile_bodies_are_clear_errors(server: Server, data: bytes, expected: str) -> None:
    _, updates = await good_then(server, body(data))
    assert_kept_with_error(updates, expected)


async def test_a_5000_digit_integer_says_it_must_fit_in_64_bits(server: Server) -> None:
    _, updates = await good_then(server, body(POD + b"  priority: " + b"9" * 5000 + b"\n"))
    assert_kept_with_error(updates, "must fit in 64 bits")


async def test_a_date_in_creation_timestamp_is_the_string_it_is_and_ignored(
    server: Server, caplog: Any
) -> None:
    # the file source does the same: a date stays a string, and the API server's field is ignored
    data = POD.replace(b"  name: x\n", b"  name: x\n  creationTimestamp: 2024-01-01\n")
    server.routes["/pods"] = body(data)
    updates = Updates()
    with caplog.at_level(logging.WARNING, "pykubelet.config.url"):
        await poll(make_source(server.url(), updates))
    assert updates.names() == {"x"} and updates.errors() == []
    assert "metadata.creationTimestamp" in caplog.text


async def test_a_bad_item_names_the_url_and_its_index_and_the_others_run(server: Server) -> None:
    bad = ITEM.format(name="c").replace("image: busybox", "image: ''")
    server.routes["/pods"] = body(
        POD_LIST.format(items=ITEM.format(name="a") + ITEM.format(name="b") + bad).encode()
    )
    updates = Updates()
    await poll(make_source(server.url(), updates))
    assert updates.names() == {"a", "b"}
    assert updates.errors() == [f"{server.url()}: items[2].spec.containers[0].image: Required value"]
    assert updates.last[f"{server.url()}#2"].pod is None
