"""The steps of ``./lab``: each says what it does and how far it is, and a failure says what to do.

A first ``./lab up`` runs for minutes (apt, image builds, provisioning). A user watching it must see which
step is running and that it is still alive, and when one fails, the step, the command, the last lines it
printed and the next thing to try, in one place: never a Python traceback, never "see above" with nothing
above. Only the standard library is used here, so ``./lab status`` and the venv's bootstrap run on a
machine's own python3 before anything is installed.
"""

from __future__ import annotations

import queue
import shlex
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TextIO

TAIL_LINES = 25
HEARTBEAT_SECONDS = 20.0


class LabError(Exception):
    """Something the user must fix; the message says what and how."""


class StepError(LabError):
    """A step's command failed: the message names the step, the command, its last lines and what to do."""

    def __init__(self, step: str, command: Sequence[str], code: int, tail: Sequence[str], hint: str) -> None:
        self.step, self.command, self.code, self.tail, self.hint = step, list(command), code, list(tail), hint
        lines = [f"step '{step}' failed: `{shlex.join(self.command)}` exited with {code}."]
        if tail:
            lines.append("Its last lines:")
            lines += [f"    {line}" for line in tail]
        else:
            lines.append("It printed nothing.")
        lines.append(f"What to do: {hint}")
        super().__init__("\n".join(lines))


class Stream(Protocol):
    """Runs a command, handing each output line (stdout and stderr merged) to ``on_line``; the exit code.

    ``on_idle(seconds)`` is called while the command has printed nothing for a while, so that a silent
    step can say it is still running.
    """

    def __call__(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None,
        env: Mapping[str, str] | None,
        on_line: Callable[[str], None],
        on_idle: Callable[[float], None],
    ) -> int: ...


def stream_command(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None],
    on_idle: Callable[[float], None],
    heartbeat: float = HEARTBEAT_SECONDS,
) -> int:
    """The real :class:`Stream`: a reader thread feeds a queue, so silence can be noticed without polling."""
    try:
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:  # not installed, not executable: a user error, said as one
        raise LabError(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=read, name=f"lab-read-{Path(command[0]).name}", daemon=True)
    reader.start()
    silent_since = time.monotonic()
    try:
        while True:
            try:
                line = lines.get(timeout=heartbeat)
            except queue.Empty:
                on_idle(time.monotonic() - silent_since)
                continue
            if line is None:
                break
            silent_since = time.monotonic()
            on_line(line)
        return proc.wait()
    finally:
        if proc.poll() is None:  # interrupted (Ctrl-C): do not leave the child behind
            proc.terminate()
            proc.wait()


def duration(seconds: float) -> str:
    """``75`` -> ``1m15s``: how long a step took, as a person reads it."""
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Steps:
    """Numbered steps (``lab: [2/4] ...``) whose commands stream their output and keep its tail."""

    def __init__(
        self,
        out: TextIO,
        stream: Stream = stream_command,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.stream = stream
        self.clock = clock
        self.total = 0
        self.index = 0
        self.title = ""
        self._started = 0.0

    def say(self, message: str) -> None:
        print(f"lab: {message}", file=self.out, flush=True)

    def plan(self, total: int) -> None:
        self.total, self.index = total, 0

    def begin(self, title: str, detail: str = "") -> None:
        """Announce the next step: what it does and, for a long one, how long it usually takes."""
        self.index += 1
        self.title = title
        self._started = self.clock()
        where = f"[{self.index}/{self.total}] " if self.total else ""
        self.say(f"{where}{title}" + (f" ({detail})" if detail else ""))

    def end(self) -> None:
        where = f"[{self.index}/{self.total}] " if self.total else ""
        self.say(f"{where}{self.title}: done in {duration(self.clock() - self._started)}")

    def run(
        self,
        command: Sequence[str],
        *,
        hint: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        echo: Callable[[str], str | None] | None = lambda line: line,
        step: str | None = None,
        noise: Callable[[str], bool] | None = None,
        display: Sequence[str] | None = None,
    ) -> list[str]:
        """Run ``command`` as (part of) the current step; its output lines, or :class:`StepError`.

        ``echo`` maps each output line to what to show (None: nothing); the default shows it as is.
        Lines that are ``noise`` (progress records) are kept out of the error's last lines; ``display`` is
        the command as the error shows it (when ``command`` wraps it).
        """
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        output: list[str] = []
        started = self.clock()

        def on_line(line: str) -> None:
            if noise is None or not noise(line):
                tail.append(line)
            output.append(line)
            shown = echo(line) if echo else None
            if shown is not None:
                print(shown, file=self.out, flush=True)

        def on_idle(_silent: float) -> None:
            last = f"; last line: {tail[-1].strip()[:100]}" if tail else ""
            self.say(f"... still at '{step or self.title}' ({duration(self.clock() - started)} so far{last})")

        code = self.stream(
            command,
            cwd=cwd,
            env=env,
            on_line=on_line,
            on_idle=on_idle,
        )
        if code != 0:
            raise StepError(step or self.title, display or command, code, list(tail), hint)
        return output
