"""The read-only port's routes (``server/routes.py``) over a small host (``server_routes_support.py``).

Every route, its status code and content type, the kubelet's refusals (other methods, the debugging paths,
unknown paths, huge URLs) and nosniff on every answer, through aiohttp's test server on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from pykubelet.server import routes
from tests.unit.server_routes_support import RUNNING, UID, FakeHost, Serve, pod_item
from tests.unit.server_routes_support import serve_fixture as serve_fixture  # fixture

# -- the read-only port ---------------------------------------------------------------------------------


async def test_healthz_is_ok_and_verbose_lists_every_check(serve: Serve) -> None:
    client = await serve(FakeHost())
    response = await client.get("/healthz")
    assert (response.status, response.content_type, await response.text()) == (200, "text/plain", "ok")
    response = await client.get("/healthz?verbose")
    assert (
        await response.text()
        == "[+]ping ok\n[+]log ok\n[+]syncloop ok\n[+]runtime ok\nhealthz check passed\n"
    )
    response = await client.get("/healthz/runtime")
    assert (response.status, await response.text()) == (200, "ok")


async def test_a_failed_check_fails_healthz_with_its_reason(serve: Serve) -> None:
    host = FakeHost(checks=[("ping", None), ("runtime", "container runtime is down: gone")])
    client = await serve(host)
    response = await client.get("/healthz")
    assert response.status == 500
    assert await response.text() == (
        "[+]ping ok\n[-]runtime failed: container runtime is down: gone\nhealthz check failed\n"
    )
    response = await client.get("/healthz/runtime")
    assert (response.status, await response.text()) == (
        500,
        "internal server error: container runtime is down: gone\n",
    )
    response = await client.get("/healthz/ping")
    assert response.status == 200
    response = await client.get("/healthz/nope")
    assert (response.status, await response.text()) == (404, "404 page not found\n")


async def test_pods_events_manifests_spec_and_stats_are_json_from_the_host(serve: Serve) -> None:
    event = {"reason": "Started", "involvedObject": {"kind": "Pod", "name": "web-node-a"}}
    report = [{"file": "/m/web.yaml", "pod": "default/web-node-a", "uid": UID, "warnings": []}]
    host = FakeHost(items=[pod_item(**RUNNING)], event_list=[event], report=report)
    client = await serve(host)
    for path in ("/pods", "/pods/"):
        response = await client.get(path)
        assert (response.status, response.content_type) == (200, "application/json")
        assert (await response.json())["items"][0]["metadata"]["uid"] == UID
    response = await client.get("/events")
    assert await response.json() == {
        "kind": "EventList",
        "apiVersion": "v1",
        "metadata": {},
        "items": [event],
    }
    response = await client.get("/manifests")
    assert await response.json() == {"items": report}
    response = await client.get("/spec/")
    assert (response.content_type, await response.json()) == (
        "application/json",
        {"num_cores": 2, "memory_capacity": 2**30},
    )
    response = await client.get("/spec", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (301, "/spec/")
    response = await client.get("/stats/summary")
    assert (await response.json())["node"]["nodeName"] == "node-a"
    await client.get("/stats/summary?only_cpu_and_memory=TRUE")
    assert host.summary_views == [False, True]


@pytest.mark.parametrize(
    ("path", "sample"),
    [("/metrics", b"kubelet_running_pods 1.0"), ("/metrics/probes", b"# TYPE prober_probe_total counter")],
)
async def test_metrics_are_the_hosts_families_in_prometheus_text(
    serve: Serve, path: str, sample: bytes
) -> None:
    client = await serve(FakeHost())
    response = await client.get(path)
    assert response.status == 200 and response.content_type == "text/plain"
    assert sample in (await response.read()).splitlines()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_only_get_and_head_are_answered(serve: Serve, method: str) -> None:
    client = await serve(FakeHost())
    response = await client.request(method, "/pods")
    assert response.status == 405 and response.headers["Allow"] == "GET, HEAD"
    assert await response.text() == (
        f"405 method not allowed: {method} (the read-only port only answers GET)\n"
    )
    response = await client.head("/pods")
    assert response.status == 200 and await response.read() == b""


@pytest.mark.parametrize(
    "path",
    ["/run/default/web/app", "/exec/default/web/app", "/attach", "/portForward/x", "/containerLogs/a/b/c",
     "/runningpods/", "/logs/", "/logs", "/debug/pprof/heap"],
)  # fmt: skip
async def test_the_debugging_paths_are_disabled_as_on_the_kubelets_read_only_port(
    serve: Serve, path: str
) -> None:
    client = await serve(FakeHost())
    response = await client.get(path)
    assert (response.status, await response.text()) == (405, "Debug endpoints are disabled.\n")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_paths_are_refused_in_plain_words(serve: Serve) -> None:
    client = await serve(FakeHost(), enable_ui=False)
    response = await client.get("/nope")
    assert (response.status, response.content_type, await response.text()) == (
        404,
        "text/plain",
        "404 page not found\n",
    )
    response = await client.get("/ui/")  # the dashboard is off
    assert response.status == 404


async def test_a_huge_url_is_414_as_on_the_kubelet(serve: Serve) -> None:
    client = await serve(FakeHost(), enable_ui=False)
    response = await client.get("/pods?x=" + "a" * routes.MAX_URL)
    assert (response.status, await response.text()) == (414, "414 request URI too long\n")


@pytest.mark.parametrize(
    "path", ["/healthz", "/pods", "/metrics", "/nope", "/exec/x", "/ui/", "/ui/snapshot", "/spec"]
)
async def test_every_answer_says_nosniff(serve: Serve, path: str) -> None:
    client = await serve(FakeHost())
    response = await client.get(path, allow_redirects=False)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
