"""The `period.closed` event: when a monthly, quarterly or yearly period ends (or a one-off
campaign's deadline passes), its result is announced once to the webhooks that want it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import emit
from ..models import Campaign, PeriodTotal, utcnow
from ..money import Money
from .progress import ONCE_KEY, period_window


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def close_periods(session: Session, _settings: Any = None, now: datetime | None = None) -> str:
    """Emit `period.closed` for each active campaign's last ended period (idempotent by its key)."""
    now = now or utcnow()
    announced = 0
    for campaign in session.scalars(select(Campaign).where(Campaign.status == "active").order_by(Campaign.id)):
        if campaign.period == "once":
            if campaign.ends_at is None or campaign.ends_at > now:
                continue
            start, end = ONCE_KEY, campaign.ends_at
        else:
            current = period_window(campaign.period, campaign.timezone, now)
            assert current is not None
            previous = period_window(campaign.period, campaign.timezone, current[0] - timedelta(microseconds=1))
            assert previous is not None
            start, end = previous
            if campaign.starts_at is not None and campaign.starts_at >= end:
                continue  # the campaign had not begun in that period
        total = session.get(PeriodTotal, (campaign.id, start))
        raised = total.raised_minor if total is not None else 0
        data = {"campaign": campaign.slug, "period_start": _iso(start) if campaign.period != "once" else None,
                "period_end": _iso(end), "raised": Money(raised, campaign.currency).plain(),
                "target": Money(campaign.target_minor, campaign.currency).plain(), "currency": campaign.currency,
                "reached": raised >= campaign.target_minor > 0,
                "supporters": total.confirmed_count if total is not None else 0}
        if emit(session, "period.closed", f"period.closed:{campaign.id}:{_iso(end)}", data):
            announced += 1
    return f"{announced} period(s) closed"
