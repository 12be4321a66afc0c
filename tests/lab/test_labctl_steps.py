"""labctl's steps, apt's freshness rule and the venv bootstrap's helpers, on real subprocesses where cheap."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import pytest
from labctl.apt import stale_reason
from labctl.bootstrap import PipProgress, stamps_cover
from labctl.steps import LabError, StepError, Steps, duration, stream_command


def test_stream_command_merges_stderr_and_returns_the_exit_code() -> None:
    lines: list[str] = []
    code = stream_command(
        ["sh", "-c", "echo one; echo two >&2; exit 3"], on_line=lines.append, on_idle=lambda _s: None
    )
    assert (code, lines) == (3, ["one", "two"])


def test_stream_command_reports_silence_while_the_command_runs() -> None:
    idle: list[float] = []
    code = stream_command(
        ["sh", "-c", "sleep 0.5; echo done"], on_line=lambda _l: None, on_idle=idle.append, heartbeat=0.1
    )
    assert code == 0
    assert idle
    assert idle == sorted(idle)


def test_a_command_that_does_not_exist_is_a_lab_error() -> None:
    with pytest.raises(LabError, match="cannot run /nonexistent/tool"):
        stream_command(["/nonexistent/tool"], on_line=lambda _l: None, on_idle=lambda _s: None)


def test_a_failed_step_keeps_the_last_lines_and_says_what_to_do() -> None:
    out = io.StringIO()
    steps = Steps(out)
    steps.plan(2)
    steps.begin("count", "quick")
    script = f'{sys.executable} -c "import sys; [print(i) for i in range(40)]; sys.exit(2)"'
    with pytest.raises(StepError) as failure:
        steps.run(["sh", "-c", script], hint="count lower", echo=None)
    message = str(failure.value)
    assert message.startswith("step 'count' failed: `sh -c ")
    assert failure.value.tail == [str(i) for i in range(15, 40)]
    assert message.endswith("What to do: count lower")
    assert out.getvalue() == "lab: [1/2] count (quick)\n"  # echo=None: the output only in the error


def test_a_silent_step_says_it_is_still_running() -> None:
    out = io.StringIO()
    steps = Steps(out, stream=lambda cmd, **kw: [kw["on_line"]("working"), kw["on_idle"](20.0), 0][-1])
    steps.begin("build")
    steps.run(["build"], hint="-")
    assert "lab: ... still at 'build' (" in out.getvalue()
    assert "last line: working" in out.getvalue()


def test_duration_reads_like_a_person_writes_it() -> None:
    assert [duration(s) for s in (5, 59, 60, 75, 3600)] == ["5s", "59s", "1m00s", "1m15s", "60m00s"]


def test_apt_lists_are_stale_when_missing_empty_or_older_than_a_day(tmp_path: Path) -> None:
    now = time.time()
    assert "is missing" in (stale_reason(tmp_path / "absent", now) or "")
    lists = tmp_path / "lists"
    (lists / "partial").mkdir(parents=True)
    assert stale_reason(lists, now) == "apt has no package lists yet"
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").write_text("")
    assert stale_reason(lists, now) is None
    os.utime(lists, (now - 30 * 86400, now - 30 * 86400))
    assert stale_reason(lists, now) == "the package lists are 30 days old"
    os.utime(lists, (now - 25 * 3600, now - 25 * 3600))
    assert stale_reason(lists, now) == "the package lists are a day old"


def test_pip_progress_counts_what_pip_collects() -> None:
    echo = PipProgress()
    shown = [echo(f"Collecting pkg{i}>=1") for i in range(12)]
    assert [s for s in shown if s] == [
        "lab: pip: 1 packages collected so far (pkg0>=1)",
        "lab: pip: 11 packages collected so far (pkg10>=1)",
    ]
    assert echo("  Downloading pkg0-1.0.whl (10 kB)") is None
    assert (
        echo("Installing collected packages: a, b, c")
        == "lab: pip: 12 packages resolved; installing 3 of them"
    )
    assert echo("ERROR: No matching distribution found for nope") == (
        "ERROR: No matching distribution found for nope"
    )


def test_a_venv_stamp_counts_for_the_extras_it_covers(tmp_path: Path) -> None:
    (tmp_path / ".installed-test-lab").touch()
    mtime = (tmp_path / ".installed-test-lab").stat().st_mtime
    assert stamps_cover(tmp_path, "lab", mtime)
    assert stamps_cover(tmp_path, "test,lab", mtime)
    assert not stamps_cover(tmp_path, "lab,docs", mtime)
    assert not stamps_cover(tmp_path, "lab", mtime + 10)  # pyproject.toml changed since
