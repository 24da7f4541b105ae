"""Helpers and fixtures for the API tests (import the fixtures into a test module to use them)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, event

from tracker.demo import load_demo
from tracker.models import Campaign

@pytest.fixture()
def demo(session: Any) -> Campaign:
    """The demo campaign: 5,000 USD a month, 2,160 USD raised, a milestone at 2,500 USD."""
    campaign = load_demo(session)
    session.commit()
    return campaign


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect every SQL statement the engine sends, transaction control excluded."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
