"""Test data helpers shared by every test module: `from factories import new_campaign, …`.

They live here, not in conftest.py, because several conftest.py files exist and
`from conftest import …` would pick whichever was imported first.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tracker.audit import Actor
from tracker.campaigns.operations import CampaignInput, MilestoneInput, save_campaign
from tracker.donations.ledger import record_donation
from tracker.models import Base, Campaign, Donation
from tracker.money import Money

PASSWORD = "correct horse battery staple"
#: Hashed once for the whole run: scrypt is slow on purpose.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
CLI = Actor.cli()
#: The standards' official test vectors, copied from shared/vectors with their sources.
VECTORS = Path(__file__).resolve().parent / "data" / "vectors"


def load_vectors(name: str) -> dict[str, Any]:
    """One vector file of tests/data/vectors, parsed."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def clean_database(engine: Engine) -> None:
    """Empty every table (fast: TRUNCATE on PostgreSQL, DELETE on SQLite)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                    + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))


def new_campaign(session: Session, slug: str = "demo", *, target: str = "5000", currency: str = "USD",
                 period: str = "once", status: str = "active", tz: str = "UTC",
                 milestones: tuple[tuple[str, str], ...] = (("2500", "Halfway"),), **extra: Any) -> Campaign:
    """Create and commit a campaign through the domain function."""
    data = CampaignInput(
        slug=slug, title=extra.pop("title", slug.title()), target=Money.parse(target, currency),
        period=period, timezone=tz, status=status,
        milestones=[MilestoneInput(Money.parse(a, currency), label) for a, label in milestones], **extra)
    campaign = save_campaign(session, data, actor=CLI)
    session.commit()
    return campaign


def new_donation(session: Session, campaign: Campaign, amount: str = "10", currency: str | None = None,
                 **extra: Any) -> Donation:
    money = Money.parse(amount, currency or campaign.currency, allow_negative=extra.get("source") == "adjustment")
    donation = record_donation(session, campaign, money, actor=CLI, **extra).donation
    session.commit()
    return donation


def at(text_: str) -> datetime:
    """An aware UTC datetime from "2026-11-25 10:00"."""
    return datetime.fromisoformat(text_).replace(tzinfo=timezone.utc)


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
