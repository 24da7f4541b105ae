"""Read-only queries over the ledger for the back office: filtered pages, the latest gifts, daily totals."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from ..campaigns.progress import day_bounds, period_window
from ..models import Campaign, Donation, utcnow
from ..money import Money
from ..paging import Page, paginate

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


def find_donations(session: Session, filters: DonationFilter, number: int = 1,
                   per_page: int = 50) -> Page[Donation]:
    """Donations matching `filters`, newest received first."""
    query = (select(Donation).options(joinedload(Donation.campaign), joinedload(Donation.recorded_by))
             .order_by(Donation.received_at.desc(), Donation.id.desc()))
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
    return paginate(session, query, number, per_page)


def latest_donations(session: Session, limit: int = 10) -> list[Donation]:
    """The most recently recorded donations, any campaign."""
    return list(session.scalars(
        select(Donation).options(joinedload(Donation.campaign))
        .order_by(Donation.recorded_at.desc(), Donation.id.desc()).limit(limit)))


@dataclass(frozen=True)
class DayTotal:
    day: date
    total: Money


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


def daily_totals(session: Session, campaign: Campaign, now: datetime | None = None) -> list[DayTotal]:
    """Confirmed amounts (adjustments included) per local day of the campaign's current period."""
    # One query over the index (campaign_id, received_at): a SUM per day between that day's UTC
    # bounds, so time zones work the same on SQLite and PostgreSQL and no rows are loaded.
    days = chart_days(campaign, now or utcnow())
    if not days:
        return []
    bounds = [day_bounds(day, campaign.timezone) for day in days]
    sums = [func.coalesce(func.sum(case(
        (and_(Donation.received_at >= start, Donation.received_at < end), Donation.goal_amount_minor),
        else_=0)), 0) for start, end in bounds]
    row = session.execute(
        select(*sums).where(Donation.campaign_id == campaign.id, Donation.status == "confirmed",
                            Donation.received_at >= bounds[0][0], Donation.received_at < bounds[-1][1])
    ).one()
    return [DayTotal(day, Money(int(value), campaign.currency)) for day, value in zip(days, row, strict=True)]

