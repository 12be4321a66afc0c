"""The lab dashboard (``/ui/``) in a real headless browser, against the real agent and Docker engine.

What a person in a workshop does: open the page, drop the walkthrough manifest in, watch its card appear
(infra container, two containers joined to it, one shared volume), drop a second pod with init
containers, write a broken manifest, delete a file, stop the agent and start it again. Screenshots of
each step are saved under ``artifacts/ui/``.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from pykubelet.cli import parser
from pykubelet.options import build
from tests.integration.conftest import MANIFESTS, Agent, wait_for

BROKEN = (MANIFESTS / "more" / "broken-typo.yaml").read_text()  # spec.containers[0].image: Required value
WIDE = {"width": 1440, "height": 1000}


def _shot(page: Page, artifacts: Path, name: str, full_page: bool = True) -> None:
    page.wait_for_timeout(150)  # let the volume wires settle after the last render
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=full_page)


def _within(deadline: float) -> float:
    """Milliseconds left until ``deadline`` (a time.monotonic() value), for Playwright's timeouts."""
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _running(agent: Agent, pod: str, count: int) -> Callable[[], bool]:
    return lambda: len(agent.containers(pod)) == count


def test_dashboard_follows_the_node(
    agent_factory: Callable[..., Agent], browser: Any, artifacts: Path
) -> None:
    agent = agent_factory().start()
    base = f"http://127.0.0.1:{agent.port}"
    page = browser.new_page(viewport=WIDE)
    requests: list[str] = []
    problems: list[str] = []
    agent_down = False  # while it is, the browser's failed reconnections are expected

    def console(message: Any) -> None:
        if message.type == "error" and not (agent_down and "ERR_CONNECTION_REFUSED" in message.text):
            problems.append(f"console: {message.text}")

    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", console)

    page.goto(f"{base}/ui/")
    expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=5000)
    expect(page.locator("#node-name")).to_have_text(agent.node)
    expect(page.locator("#root-dir")).to_have_text(str(agent.root))
    expect(page.locator("#no-pods")).to_be_visible()
    _shot(page, artifacts, "01-no-pods")

    # -- the walkthrough pod: within 2 s of its containers running, its card shows them ----------------
    agent.copy_example("nginx-truncator.yaml")
    wait_for("the walkthrough's three containers running", _running(agent, "nginx-truncator", 3), timeout=60)
    deadline = time.monotonic() + 2.0
    card = page.locator(f'article.pod[data-pod="nginx-truncator-{agent.node}"]')
    apps = card.locator('.container.app[data-attached="infra"]')
    expect(apps.locator('.state[data-state="running"]')).to_have_count(2, timeout=_within(deadline))
    expect(card.locator(".infra")).to_have_count(1, timeout=_within(deadline))
    expect(apps).to_have_count(2, timeout=_within(deadline))
    expect(card.locator(".volume")).to_have_count(1, timeout=_within(deadline))
    assert time.monotonic() <= deadline + 0.1, "the card took more than 2 s to show the running pod"

    pod = agent.pod("nginx-truncator")
    assert pod is not None
    uid, ip = pod["metadata"]["uid"], pod["status"]["podIP"]
    expect(card.locator('[data-role="phase"]')).to_have_text("Running")
    expect(card.locator('.infra [data-role="pod-ip"]')).to_have_text(ip)
    expect(card.locator(".infra")).to_contain_text("owns the pod's network namespace")
    expect(card.locator(".pod-facts")).to_contain_text("nginx-truncator.yaml")
    expect(card.locator(".pod-facts")).to_contain_text("BestEffort")
    assert sorted(apps.evaluate_all("els => els.map(e => e.dataset.container)")) == ["log-truncator", "nginx"]
    for name, image in (("nginx", "nginx:1.22"), ("log-truncator", "busybox:1.35")):
        box = card.locator(f'.container.app[data-container="{name}"]')
        expect(box.locator(".image")).to_have_text(image)
        expect(box.locator('[data-role="ready"]')).to_have_text("ready ✓")
        expect(box.locator('[data-role="restarts"]')).to_have_text("restarts 0")
    # one volume, drawn once, wired to both containers that mount it, with its host path
    volume = card.locator('.volume[data-volume="logs"]')
    expect(volume).to_have_attribute("data-mounted-by", "nginx log-truncator")
    expect(volume.locator(".vkind")).to_have_text("emptyDir")
    expect(volume.locator(".vpath")).to_have_text(
        f"{agent.root}/pods/{uid}/volumes/kubernetes.io~empty-dir/logs"
    )
    wires = card.locator('svg.links path.link[data-volume="logs"]')
    expect(wires).to_have_count(2)
    wired = wires.evaluate_all("els => els.map(e => e.dataset.container)")
    assert sorted(wired) == ["log-truncator", "nginx"]
    _shot(page, artifacts, "02-walkthrough-pod")

    # -- init containers, in order, with their outcome ---------------------------------------------
    agent.copy_example("init-demo.yaml")
    init_card = page.locator(f'article.pod[data-pod="init-demo-{agent.node}"]')
    expect(init_card.locator('[data-role="phase"]')).to_have_text("Running", timeout=30000)
    inits = init_card.locator(".container.init")
    assert inits.evaluate_all("els => els.map(e => e.dataset.container)") == ["write-page", "wait-a-bit"]
    expect(inits.locator(".state")).to_have_text(["Completed ✓ · exit 0", "Completed ✓ · exit 0"])
    expect(init_card.locator('svg.links path.link[data-volume="workdir"]')).to_have_count(2)

    # -- a broken manifest: the error panel names the file and the field ----------------------------
    agent.write("broken.yaml", BROKEN)
    error = page.locator(f'#error-list .error[data-file="{agent.manifests / "broken.yaml"}"]')
    expect(error).to_be_visible(timeout=5000)
    expect(error.locator(".efile-name")).to_have_text("broken.yaml")
    expect(error.locator(".fpath")).to_have_text("spec.containers[0].image")
    expect(error.locator(".freason")).to_have_text("Required value")
    expect(page.locator("#error-count")).to_have_text("1")
    expect(page.locator("#event-list")).to_contain_text("FailedValidation")
    expect(page.locator("#event-list")).to_contain_text("Started")
    _shot(page, artifacts, "03-overview", full_page=False)

    # -- keyboard: the cards take the focus, visibly ------------------------------------------------
    page.locator("body").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('article.pod')"):
            break
    else:
        pytest.fail("Tab never reached a pod card")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "4px", f"the focused card has no visible outline ({outline})"

    # -- a narrow window: everything still fits, no sideways scrolling ------------------------------
    page.set_viewport_size({"width": 420, "height": 900})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px in a 420px window"
    expect(card.locator('svg.links path.link[data-volume="logs"]')).to_have_count(2)
    _shot(page, artifacts, "04-narrow-window")
    page.set_viewport_size(WIDE)

    # -- delete the file: the card goes --------------------------------------------------------------
    agent.remove("nginx-truncator.yaml")
    expect(card).to_have_count(0, timeout=2000)
    expect(init_card).to_have_count(1)

    # -- stop the agent: the page says so; start it again on the same port: the page recovers ----------
    agent_down = True
    assert agent.stop(signal.SIGTERM) == 0
    offline = page.locator("#offline")
    expect(offline).to_be_visible(timeout=10000)
    expect(offline).to_contain_text("Agent not answering")
    expect(page.locator("#connection")).to_contain_text("not answering")
    expect(page.locator("body")).to_have_attribute("data-connection", "offline")
    _shot(page, artifacts, "05-agent-stopped")

    agent.start()
    expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=15000)
    agent_down = False
    expect(offline).to_be_hidden()
    expect(init_card.locator('[data-role="phase"]')).to_have_text("Running", timeout=10000)
    expect(error.locator(".fpath")).to_have_text("spec.containers[0].image", timeout=10000)
    _shot(page, artifacts, "06-agent-back")

    # Everything the page loaded came from the agent itself: no CDN, nothing from the internet.
    foreign = [url for url in requests if not url.startswith(f"{base}/")]
    assert not foreign, f"the page fetched from elsewhere: {foreign}"
    assert not problems, problems
    page.close()


def _get(agent: Agent, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{agent.port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_dashboard_is_read_only_and_can_be_turned_off(agent_factory: Callable[..., Agent]) -> None:
    agent = agent_factory().start()
    status, headers, body = _get(agent, "/ui/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert b'src="app.js"' in body
    assert _get(agent, "/ui")[0] == 200  # redirected to /ui/
    for asset in ("app.js", "style.css", "favicon.svg"):
        assert _get(agent, f"/ui/{asset}")[0] == 200
    assert _get(agent, "/ui/nothing-here")[0] == 404
    for method in ("POST", "PUT", "DELETE"):
        assert _get(agent, "/ui/", method)[0] == 405
        assert _get(agent, "/ui/stream", method)[0] == 405

    snapshot = json.loads(_get(agent, "/ui/snapshot")[2])
    assert snapshot["node"] == agent.node
    assert snapshot["rootDir"] == str(agent.root)
    assert snapshot["manifestPath"] == str(agent.manifests)
    assert snapshot["pods"] == []

    with urllib.request.urlopen(f"http://127.0.0.1:{agent.port}/ui/stream", timeout=5) as stream:
        assert stream.headers.get_content_type() == "text/event-stream"
        first = b""
        while b"event: snapshot" not in first or not first.endswith(b"\n\n"):
            first += stream.read1(65536)
    data = next(line for line in first.split(b"\n") if line.startswith(b"data: "))
    assert json.loads(data[len(b"data: ") :])["node"] == agent.node

    # SIGTERM with a page still connected: the stream ends and the agent stops promptly.
    stream = urllib.request.urlopen(f"http://127.0.0.1:{agent.port}/ui/stream", timeout=5)
    started = time.monotonic()
    assert agent.stop(signal.SIGTERM, timeout=30) == 0
    assert time.monotonic() - started < 10, "an open dashboard held up the agent's shutdown"
    stream.close()

    off = agent_factory(["--enable-ui=false"]).start()
    assert _get(off, "/ui/")[0] == 404
    assert _get(off, "/ui/stream")[0] == 404
    assert _get(off, "/healthz")[2] == b"ok"


def test_enable_ui_flag() -> None:
    def enable_ui(*argv: str) -> bool:
        flags = vars(parser().parse_args(["--pod-manifest-path", "/m", *argv]))
        flags.pop("config")
        return build(flags, None).enable_ui

    assert enable_ui() is True
    assert enable_ui("--enable-ui") is True
    assert enable_ui("--enable-ui=true") is True
    assert enable_ui("--enable-ui=false") is False
    assert enable_ui("--enable-ui", "False") is False
    with pytest.raises(SystemExit):
        parser().parse_args(["--enable-ui=maybe"])
