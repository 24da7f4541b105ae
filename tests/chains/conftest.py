"""Fixtures for the chain watchers: the replay server, a rate."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pytest
from chain_helpers import Replay


@pytest.fixture()
def replay() -> Iterator[Replay]:
    server = Replay()
    yield server
    server.close()


@pytest.fixture()
def rate(session: Any) -> Callable[..., Any]:
    """Store a rate (1 base = value quote) as of a time, from a source."""
    from tracker.audit import Actor
    from tracker.donations.rates import record_rate

    def add(base: str, quote: str, value: str, as_of: datetime | None = None, source: str = "test") -> Any:
        entry = record_rate(session, base, quote, value, as_of or datetime(2019, 1, 1, tzinfo=timezone.utc),
                            source, Actor.cli())
        session.commit()
        return entry
    return add
