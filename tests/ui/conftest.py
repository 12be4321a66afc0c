"""The dashboard's harness: the integration harness (a real agent, a real engine) plus a real browser.

The browser is Debian's chromium (``apt-get install chromium``) driven by Playwright through its
executable path: nothing here downloads a browser. A missing browser, Playwright or Docker engine fails
the run; it never skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (  # noqa: F401 - fixtures and the report hook, reused as they are
    REPO,
    agent,
    agent_factory,
    docker_api,
    pytest_runtest_makereport,
)

CHROMIUM = os.environ.get("PYKUBELET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "artifacts" / "ui"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright is not installed ({exc}): .venv/bin/pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots of the test run go here (``artifacts/`` is git-ignored; CI can keep it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
