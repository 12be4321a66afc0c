"""Every long-lived task comes back after a failure (issue 16, point 3), without Docker.

The supervisor itself, then the file source's three loops with a fault injected into their work: each
fails once, is logged with its name, restarts, and the source still picks up a new manifest.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from pykubelet import supervisor
from pykubelet.config.file import FileSource, Snapshot

POD = b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: busybox}]}\n"
FAST = {"initial_backoff": 0.01, "max_backoff": 0.02}


async def test_a_failing_task_is_logged_with_its_name_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs = 0
    done = asyncio.Event()

    async def work() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise ValueError(f"boom {runs}")
        done.set()
        await asyncio.Event().wait()

    before = supervisor.RESTARTS["unit-flaky"]
    task = supervisor.spawn("unit-flaky", work, **FAST)
    await asyncio.wait_for(done.wait(), 5)
    await supervisor.cancel_all([task])
    assert runs == 3
    assert supervisor.RESTARTS["unit-flaky"] - before == 2
    failures = [r for r in caplog.records if "unit-flaky failed" in r.getMessage()]
    reasons = [r.getMessage().split(": ", 1)[1] for r in failures]
    assert reasons == ["ValueError: boom 1", "ValueError: boom 2"]
    assert task.cancelled()


async def test_a_loop_that_returns_is_restarted_but_a_pod_worker_may_end() -> None:
    runs = 0

    async def work() -> None:
        nonlocal runs
        runs += 1

    task = supervisor.spawn("unit-returns", work, **FAST)
    await asyncio.sleep(0.2)
    await supervisor.cancel_all([task])
    assert runs > 2
    runs = 0
    await asyncio.wait_for(supervisor.spawn("unit-worker", work, forever=False, **FAST), 5)
    assert runs == 1


async def test_cancellation_is_not_a_failure() -> None:
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(60)

    task = supervisor.spawn("unit-cancel", work, **FAST)
    await started.wait()
    await supervisor.cancel_all([task])
    assert supervisor.RESTARTS["unit-cancel"] == 0


@pytest.mark.parametrize("method", ["_watch_loop", "_rescan_loop", "_relist_loop"])
async def test_each_file_source_loop_comes_back_and_new_files_are_still_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    original = getattr(FileSource, method)
    failed = asyncio.Event()

    async def fail_once(self: FileSource) -> None:
        if not failed.is_set():
            failed.set()
            raise RuntimeError(f"injected into {method}")
        await original(self)

    monkeypatch.setattr(FileSource, method, fail_once)
    snapshots: list[Snapshot] = []
    source = FileSource(str(tmp_path), "node", 0.2, snapshots.append)
    caplog.set_level(logging.ERROR, logger="pykubelet.supervisor")
    await source.start()
    try:
        await asyncio.wait_for(failed.wait(), 5)
        (tmp_path / "web.yaml").write_bytes(POD)
        for _ in range(100):  # bounded: 5 s at most
            if snapshots and str(tmp_path / "web.yaml") in snapshots[-1]:
                break
            await asyncio.sleep(0.05)
        assert str(tmp_path / "web.yaml") in snapshots[-1]
    finally:
        await source.stop()
    assert any(f"injected into {method}" in r.getMessage() for r in caplog.records)


async def test_a_bug_hit_by_one_file_is_that_files_error_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pykubelet.config import file as file_source

    real = file_source.load_pod

    def load_pod(data: bytes, path: str, *args: object, **kwargs: object) -> object:
        if path.endswith("bad.yaml"):
            raise KeyError("a bug")
        return real(data, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(file_source, "load_pod", load_pod)
    (tmp_path / "bad.yaml").write_bytes(POD)
    (tmp_path / "good.yaml").write_bytes(POD.replace(b"web", b"good"))
    source = FileSource(str(tmp_path), "node", 60, lambda _: None)
    snapshot = await source.scan(periodic=True)
    bad, good = snapshot[str(tmp_path / "bad.yaml")], snapshot[str(tmp_path / "good.yaml")]
    assert good.pod is not None and good.error is None
    assert bad.pod is None and bad.error is not None
    assert "pykubelet could not process this file (KeyError" in bad.error.reason
