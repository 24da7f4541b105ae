"""Read-only queries over the ledger for the back office: filtered pages, the latest gifts, daily totals."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..campaigns.progress import period_window
from ..models import Campaign, Donation, utcnow
from ..models import DayTotal as DayTotalRow
from ..money import Money
from ..paging import Cursor, Page, keyset_page

#: The chart shows at most this many days (the most recent ones of the period).
MAX_CHART_DAYS = 62


#: A one-off campaign without a start date charts its last this many days.
ONCE_CHART_DAYS = 30


@dataclass(frozen=True)
class DonationFilter:
    campaign_id: int | None = None
    status: str | None = None
    source: str | None = None
    #: UTC [received_from, received_until).
    received_from: datetime | None = None
    received_until: datetime | None = None


def find_donations(session: Session, filters: DonationFilter, *, older_than: Cursor | None = None,
                   newer_than: Cursor | None = None, per_page: int = 50) -> Page[Donation]:
    """Donations matching `filters`, newest received first, a page at a time (see paging.py).

    Each filter has an index ending in (received_at, id): the page is one index range read
    that stops after `per_page` rows, whatever the ledger's size.
    """
    query = select(Donation).options(joinedload(Donation.campaign), joinedload(Donation.recorded_by))
    if filters.campaign_id is not None:
        query = query.where(Donation.campaign_id == filters.campaign_id)
    if filters.status:
        query = query.where(Donation.status == filters.status)
    if filters.source:
        query = query.where(Donation.source == filters.source)
    if filters.received_from is not None:
        query = query.where(Donation.received_at >= filters.received_from)
    if filters.received_until is not None:
        query = query.where(Donation.received_at < filters.received_until)
    return keyset_page(session, query, at=Donation.received_at, id_=Donation.id, key=donation_cursor,
                       per_page=per_page, older_than=older_than, newer_than=newer_than)


def donation_cursor(donation: Donation) -> Cursor:
    return Cursor(donation.received_at, donation.id)


def latest_donations(session: Session, limit: int = 10) -> list[Donation]:
    """The latest donations by when they were received, any campaign (an index read that stops)."""
    return list(session.scalars(
        select(Donation).options(joinedload(Donation.campaign))
        .order_by(Donation.received_at.desc(), Donation.id.desc()).limit(limit)))


@dataclass(frozen=True)
class DailyTotal:
    """A day of the chart: confirmed gifts, and "set raised to" adjustments kept apart."""

    day: date
    total: Money
    gifts: int = 0
    adjusted: Money | None = None


def chart_days(campaign: Campaign, now: datetime) -> list[date]:
    """Local calendar days of the campaign's current period up to today (at most MAX_CHART_DAYS)."""
    zone = ZoneInfo(campaign.timezone)
    today = now.astimezone(zone).date()
    window = period_window(campaign.period, campaign.timezone, now)
    if window is not None:
        first = window[0].astimezone(zone).date()
    elif campaign.starts_at is not None:
        first = campaign.starts_at.astimezone(zone).date()
    else:
        first = today - timedelta(days=ONCE_CHART_DAYS - 1)
    first = max(first, today - timedelta(days=MAX_CHART_DAYS - 1))
    if first > today:
        return []
    return [first + timedelta(days=offset) for offset in range((today - first).days + 1)]


def daily_totals(session: Session, campaign: Campaign, now: datetime | None = None) -> list[DailyTotal]:
    """Confirmed gifts per local day of the campaign's current period, from the maintained day totals.

    One primary-key range read of `day_total` (at most MAX_CHART_DAYS rows): the same cost at a
    thousand gifts and at a million. Adjustments are not gifts: they come apart.
    """
    days = chart_days(campaign, now or utcnow())
    if not days:
        return []
    kept = {row.day: row for row in session.scalars(
        select(DayTotalRow).where(DayTotalRow.campaign_id == campaign.id, DayTotalRow.day >= days[0],
                                  DayTotalRow.day <= days[-1]))}
    totals = []
    for day in days:
        row = kept.get(day)
        totals.append(DailyTotal(day, Money(row.gifts_minor if row else 0, campaign.currency),
                                 row.gift_count if row else 0,
                                 Money(row.adjusted_minor, campaign.currency) if row and row.adjusted_minor else None))
    return totals
