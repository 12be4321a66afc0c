"""Log lines that cannot flood: one per period for each kind, with a count of the ones held back.

A client can make the read-only port fail in the same way thousands of times a second (malformed
requests, connections the guard closes, accepts that fail for want of descriptors). Each kind is
worth one line every few seconds; a line per event would fill the disk (24 MB in 20 s before this).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("pykubelet.server")

LOG_PERIOD = 10.0  # at most one line per period for each kind of trouble


class LogThrottle:
    """One log line per ``period`` at most; the lines held back are counted into the next one."""

    def __init__(self, period: float = LOG_PERIOD, clock: Callable[[], float] = time.monotonic) -> None:
        self.period = period
        self.clock = clock
        self.suppressed = 0
        self._last = float("-inf")

    def admit(self) -> str | None:
        """None: hold this line back. Else the note to append to it ("" when nothing was held back)."""
        now = self.clock()
        if now - self._last < self.period:
            self.suppressed += 1
            return None
        note = ""
        if self.suppressed:
            note = f" (and {self.suppressed} more like it in the last {now - self._last:.0f}s)"
        self._last, self.suppressed = now, 0
        return note

    def __call__(self, level: int, message: str, *args: object) -> bool:
        """Log ``message % args`` unless a line went out less than ``period`` ago; True if it was logged."""
        note = self.admit()
        if note is None:
            return False
        log.log(level, message + note.replace("%", "%%"), *args)
        return True


class ThrottleFilter(logging.Filter):
    """For aiohttp's server logger: each kind of message once per period, client errors without traceback.

    aiohttp logs every malformed request ("Error handling request from ...") with the parser's
    traceback: a client's mistake, not the agent's, and a flood of them is a flood of log. A traceback
    from one of our handlers (a bug) is kept, once per period.
    """

    def __init__(self, period: float = LOG_PERIOD) -> None:
        super().__init__()
        self.period = period
        self._throttles: dict[object, LogThrottle] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if len(self._throttles) > 64:  # messages are aiohttp's fixed templates; never let this grow
            self._throttles.clear()
        throttle = self._throttles.setdefault(record.msg, LogThrottle(self.period))
        note = throttle.admit()
        if note is None:
            return False
        exc = record.exc_info[1] if record.exc_info else None
        extra = note
        if isinstance(exc, HttpProcessingError):
            record.exc_info = None
            extra = f": {exc}{note}"
        if extra:
            record.msg = f"{record.msg}{extra.replace('%', '%%') if record.args else extra}"
        return True


def http_logger(period: float = LOG_PERIOD) -> logging.Logger:
    """The logger aiohttp's request handlers write to, under pykubelet's and throttled."""
    logger = logging.getLogger("pykubelet.server.http")
    if not any(isinstance(f, ThrottleFilter) for f in logger.filters):
        logger.addFilter(ThrottleFilter(period))
    return logger
