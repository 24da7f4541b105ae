"""The chains' periodic work for the worker: plain, idempotent functions `fn(session, settings)`.

The worker calls each at its interval inside one transaction; running one twice, or late,
does no harm (every write is keyed, see watcher.py and rates_sources.py).
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.orm import Session

from ..config import Settings
from .rates_sources import refresh_rates
from .watcher import watch_all

#: (job, seconds between runs). watch_all polls only the coins that are due (chains.<coin>.poll_seconds,
#: longer after failures), so running it often costs nothing; refresh_rates skips pairs fetched recently.
PERIODIC: list[tuple[Callable[[Session, Settings], Any], int]] = [
    (watch_all, 15),
    (refresh_rates, 300),
]
