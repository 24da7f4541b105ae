"""Fixtures for the back-office tests: signed-in clients per role, and a few readers of the database."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import AuditEvent, Donation


@pytest.fixture()
def admin(client: Any, auth: Any) -> Any:
    """A client signed in as an admin."""
    response = auth.login("admin@example.org", role="admin")
    assert response.status_code == 302, response.data
    return client


@pytest.fixture()
def count(app_session: Session) -> Callable[[Any], int]:
    """Rows of a model, read fresh from the database."""
    def rows(model: Any) -> int:
        app_session.expire_all()
        app_session.rollback()
        return app_session.scalar(select(func.count()).select_from(model)) or 0
    return rows


@pytest.fixture()
def donations(app_session: Session) -> Callable[[], list[Donation]]:
    def load() -> list[Donation]:
        app_session.rollback()
        app_session.expire_all()
        return list(app_session.scalars(select(Donation).order_by(Donation.id)))
    return load


@pytest.fixture()
def events(app_session: Session) -> Callable[[str], list[AuditEvent]]:
    def load(action: str) -> list[AuditEvent]:
        app_session.rollback()
        app_session.expire_all()
        return list(app_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.id)))
    return load
