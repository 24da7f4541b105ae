"""Read-only queries for the back office: daily totals, filtered donation and audit-log pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Sequence, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from .models import AuditEvent, Campaign, Donation, utcnow
from .money import Money
from .progress import day_bounds, period_window

T = TypeVar("T")

#: The chart shows at most this many days (the most recent ones of the period).
MAX_CHART_DAYS = 62
#: A one-off campaign without a start date charts its last this many days.
ONCE_CHART_DAYS = 30


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(session: Session, query: Select[tuple[T]], number: int, per_page: int) -> Page[T]:
    """Run `query` for page `number` (from 1; past the end, the last page), with the total count of matching rows."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    # Clamped before it becomes an OFFSET: ?page=99999999999999999999 overflowed the database's integer.
    number = min(max(1, number), max(1, -(-total // per_page)))
    items = list(session.scalars(query.limit(per_page).offset((number - 1) * per_page)).unique())
    return Page(items, number, per_page, total)


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
class AuditFilter:
    entity: str | None = None
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def find_audit_events(session: Session, filters: AuditFilter, number: int = 1,
                      per_page: int = 50) -> Page[AuditEvent]:
    """Audit events matching `filters`, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if filters.entity:
        query = query.where(AuditEvent.entity == filters.entity)
    if filters.action:
        # "payment_method" finds every payment_method.* action.
        query = query.where((AuditEvent.action == filters.action)
                            | AuditEvent.action.startswith(filters.action + ".", autoescape=True))
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor.strip().lower())
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    return paginate(session, query, number, per_page)


def audit_entities(session: Session) -> list[str]:
    """The entity names present in the log, for the filter's choices."""
    return list(session.scalars(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity)))


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
    return [DayTotal(day, Money(int(value), campaign.currency)) for day, value in zip(days, row)]
