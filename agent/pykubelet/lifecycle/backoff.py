"""The kubelet's exponential back-off (client-go ``util/flowcontrol/backoff.go``).

One entry per key (a container of a pod, or an image of a pod). The first failure is retried at once;
``next`` then sets 10 s, and each further failure doubles it up to 300 s. An entry whose last update is
older than twice the cap (10 minutes) starts again from 10 s: a container that ran for 10 minutes
without trouble is forgiven its past.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 10.0
MAXIMUM = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(
        self, initial: float = INITIAL, maximum: float = MAXIMUM, clock: Callable[[], float] = time.time
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def next(self, key: str, now: float | None = None) -> float:
        """Record a failure-driven restart at ``now``; returns the delay the *next* restart must wait."""
        now = self.clock() if now is None else now
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, now):
            entry = self._entries[key] = _Entry(self.initial, now)
        else:
            entry.backoff = min(entry.backoff * 2, self.maximum)
            entry.last_update = now
        return entry.backoff

    def in_backoff_since(self, key: str, event_time: float, now: float | None = None) -> float:
        """Seconds still to wait after ``event_time`` (a container's finish), 0 when free to go.

        As ``IsInBackOffSince``: the wait is measured from when the container finished, with the
        current back-off; an expired entry never blocks.
        """
        now = self.clock() if now is None else now
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, now):
            return 0.0
        remaining = entry.backoff - (now - event_time)
        return max(remaining, 0.0)

    def remaining(self, key: str, now: float | None = None) -> float:
        """Seconds left of the back-off that the last failure (the last ``next``) started."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return self.in_backoff_since(key, entry.last_update, now)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        """Drop every entry of a pod that is gone."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def _expired(self, entry: _Entry, now: float) -> bool:
        return now - entry.last_update > 2 * self.maximum


def format_duration(seconds: float) -> str:
    """Go's ``time.Duration`` string for whole seconds, as the CrashLoopBackOff message shows it."""
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
