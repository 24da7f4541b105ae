"""Logging that stays readable during an outage: one line per kind of failure per minute."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("tracker")


class ThrottledLog:
    """Logs one line per kind of failure per interval, with how many were left out since."""

    # A database outage made every request log a traceback: 1,899 of them, 15.7 MB in 20 s.

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, kind: str, message: str) -> bool:
        """Log `message` unless `kind` was logged within the interval; True when logged."""
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(kind, -self.interval) < self.interval:
                self._skipped[kind] = self._skipped.get(kind, 0) + 1
                return False
            skipped = self._skipped.pop(kind, 0)
            self._last[kind] = now
        log.warning("%s%s", message, f" ({skipped} more since the last report)" if skipped else "")
        return True




_outages = ThrottledLog()


def outage_note(kind: str, message: str) -> bool:
    """Log `message` for `kind` (say "database:OperationalError") at most once a minute."""
    return _outages.warning(kind, message)
