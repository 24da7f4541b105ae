"""The chains' periodic work for the worker: plain, idempotent functions `fn(session, settings)`.

The worker calls each at its interval inside one transaction; running one twice, or late,
does no harm (every write is keyed, see watcher.py and rates_sources.py).
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.orm import Session

from ..config import Settings
from .alerts import failure_message, send
from .rates_sources import refresh_rates
from .watcher import PassResult, watch_all


def watch_and_alert(session: Session, settings: Settings) -> list[PassResult]:
    """One pass over each due coin; the owner is e-mailed when a watcher has failed ALERT_AFTER times in a row."""
    results = watch_all(session, settings)
    for result in results:
        message = failure_message(session, settings, result)
        if message is not None:
            send(settings, message)
    return results

#: (job, seconds between runs). watch_and_alert polls only the coins that are due (chains.<coin>.poll_seconds,
#: longer after failures), so running it often costs nothing; refresh_rates skips pairs fetched recently.
PERIODIC: list[tuple[Callable[[Session, Settings], Any], int]] = [
    (watch_and_alert, 15),
    (refresh_rates, 300),
]
