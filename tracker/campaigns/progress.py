"""Goal and period arithmetic: raised, pending, percent, milestones, period windows, days left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_percent
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Campaign, PeriodTotal, utcnow
from ..money import Money

#: Bucket key of one-off campaigns: their whole ledger is one period.
ONCE_KEY = datetime(1970, 1, 1, tzinfo=timezone.utc)

_MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "yearly": 12}


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, as UTC (a skipped midnight gives the first real time)."""
    local = datetime.combine(day, time(0), tzinfo=zone)
    # Round-trip through UTC: a midnight that does not exist (DST starting at 00:00) moves
    # forward to the first instant that does.
    return local.astimezone(timezone.utc)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def period_window(period: str, tz: str, at: datetime) -> tuple[datetime, datetime] | None:
    """UTC [start, end) of the monthly/quarterly/yearly period holding `at`, in zone `tz`."""
    if period == "once":
        return None
    months = _MONTHS_PER_PERIOD[period]
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    first_month = ((local.month - 1) // months) * months + 1
    start_day = date(local.year, first_month, 1)
    end_day = _add_months(start_day, months)
    return _local_midnight(start_day, zone), _local_midnight(end_day, zone)


def period_key(campaign: Campaign, at: datetime) -> datetime:
    """The PeriodTotal bucket a donation received at `at` counts in."""
    window = period_window(campaign.period, campaign.timezone, at)
    return ONCE_KEY if window is None else window[0]


def days_left(end: datetime | None, now: datetime, tz: str) -> int | None:
    """Calendar days from today until `end`, in zone `tz`, counting today; None without an end."""
    if end is None:
        return None
    zone = ZoneInfo(tz)
    end_local, now_local = end.astimezone(zone), now.astimezone(zone)
    days = (end_local.date() - now_local.date()).days
    if end_local.time() != time(0):
        days += 1  # the deadline's own day still counts
    return max(days, 0)


def percent_of(raised: int, target: int) -> Decimal:
    """Percent to one decimal, rounded down so 99.96 % never reads as 100 %; may pass 100."""
    tenths = (raised * 1000) // target if raised >= 0 else -((-raised * 1000) // target)
    return Decimal(tenths) / 10


@dataclass(frozen=True)
class MilestoneState:
    amount: Money
    label: str
    reached: bool


@dataclass(frozen=True)
class Progress:
    """Where a campaign stands now, in its current period."""

    target: Money
    raised: Money
    pending: Money
    percent: Decimal
    donors: int
    pending_count: int
    milestones: tuple[MilestoneState, ...]
    period: str
    period_start: datetime | None
    period_end: datetime | None
    days_left: int | None
    updated_at: datetime | None

    @property
    def next_milestone(self) -> MilestoneState | None:
        return next((m for m in self.milestones if not m.reached), None)

    @property
    def reached_goal(self) -> bool:
        return self.raised >= self.target

    @property
    def remaining(self) -> Money:
        """What is still to go (zero once the goal is reached)."""
        return max(self.target - self.raised, Money.zero(self.target.currency))

    @property
    def over_goal(self) -> Money:
        """What was raised beyond the goal (zero below it)."""
        return max(self.raised - self.target, Money.zero(self.target.currency))

    @property
    def bar(self) -> Bar:
        """Where the fill, the pending segment and the ticks go on any drawing of this progress."""
        return progress_bar(self)


@dataclass(frozen=True)
class Tick:
    """A labelled point on the bar: the start, a milestone or the goal."""

    #: Position along the bar, 0 to 100.
    position: Decimal
    amount: Money
    #: "start", "milestone" or "goal".
    kind: str
    #: The milestone's label ("Halfway: hosting is paid"), empty for start and goal.
    title: str = ""
    reached: bool = False


@dataclass(frozen=True)
class Bar:
    """The numbers every progress bar (page, widget, SVG, PNG) is drawn from; widths in percent."""

    #: Width of the confirmed fill, 0 to 100 (percent may pass 100; the bar cannot).
    fill: Decimal
    #: Width of the pending segment after the fill, so that fill + pending <= 100.
    pending: Decimal
    #: The start, every milestone below the goal, and the goal, in order.
    ticks: tuple[Tick, ...]
    #: aria-valuenow/valuemax in the goal currency's major units, valuenow kept within 0..max.
    value_now: Decimal
    value_max: Decimal


def _share(amount: int, target: int) -> Decimal:
    """`amount` as a percentage of `target`, rounded down to 0.1 and kept within 0..100."""
    return min(max(percent_of(amount, target), Decimal(0)), Decimal(100))


def percent_label(percent: Decimal, locale: str) -> str:
    """The percent as every drawing shows it: whole, rounded down ("43%", "43 %"; 100% only once reached)."""
    whole = percent.to_integral_value(rounding=ROUND_FLOOR)
    return format_percent(whole / 100, locale=locale)


def progress_bar(progress: Progress) -> Bar:
    """The bar geometry of `progress`: one drawing model for the support page and every widget form."""
    target = progress.target.minor
    fill = _share(progress.raised.minor, target)
    pending = min(_share(max(progress.pending.minor, 0), target), Decimal(100) - fill)
    zero = Money.zero(progress.target.currency)
    ticks = [Tick(Decimal(0), zero, "start", reached=True)]
    goal_title = ""
    for milestone in progress.milestones:
        if milestone.amount < progress.target:
            ticks.append(Tick(_share(milestone.amount.minor, target), milestone.amount, "milestone",
                              milestone.label, milestone.reached))
        elif milestone.amount == progress.target:
            goal_title = milestone.label  # a milestone at the goal is the goal's own label
    ticks.append(Tick(Decimal(100), progress.target, "goal", goal_title, progress.reached_goal))
    major = progress.target.to_decimal()
    value_now = min(max(progress.raised.to_decimal(), Decimal(0)), major)
    return Bar(fill, pending, tuple(ticks), value_now, major)


@dataclass(frozen=True)
class PeriodResult:
    start: datetime
    end: datetime
    raised: Money
    donors: int
    percent: Decimal


def campaign_progress(session: Session, campaign: Campaign, now: datetime | None = None,
                      locale: str | None = None) -> Progress:
    """Progress of `campaign` at `now`: one primary-key lookup of its maintained period total.

    Milestone labels are those for readers of `locale` (the default label where it has none).
    """
    now = now or utcnow()
    window = period_window(campaign.period, campaign.timezone, now)
    key = ONCE_KEY if window is None else window[0]
    total = session.get(PeriodTotal, (campaign.id, key))
    raised = total.raised_minor if total else 0
    target = Money(campaign.target_minor, campaign.currency)
    if window is None:
        start, end = campaign.starts_at, campaign.ends_at
    else:
        start, end = window
        if campaign.ends_at is not None and campaign.ends_at < end:
            end = campaign.ends_at
    return Progress(
        target=target,
        raised=Money(raised, campaign.currency),
        pending=Money(total.pending_minor if total else 0, campaign.currency),
        percent=percent_of(raised, campaign.target_minor),
        donors=total.confirmed_count if total else 0,
        pending_count=total.pending_count if total else 0,
        milestones=tuple(
            MilestoneState(Money(m.amount_minor, campaign.currency), m.text("label", locale),
                           raised >= m.amount_minor)
            for m in campaign.milestones),
        period=campaign.period,
        period_start=start,
        period_end=end,
        days_left=days_left(end, now, campaign.timezone),
        updated_at=total.updated_at if total else None,
    )


def past_periods(session: Session, campaign: Campaign, now: datetime | None = None,
                 limit: int = 12) -> list[PeriodResult]:
    """Results of the periods before the current one, newest first (periodic campaigns only)."""
    if campaign.period == "once":
        return []
    now = now or utcnow()
    current = period_key(campaign, now)
    rows = session.scalars(
        select(PeriodTotal)
        .where(PeriodTotal.campaign_id == campaign.id, PeriodTotal.period_start < current)
        .order_by(PeriodTotal.period_start.desc())
        .limit(limit)
    )
    results = []
    for row in rows:
        start, end = period_window(campaign.period, campaign.timezone, row.period_start)  # type: ignore[misc]
        results.append(PeriodResult(start, end, Money(row.raised_minor, campaign.currency),
                                    row.confirmed_count, percent_of(row.raised_minor, campaign.target_minor)))
    return results


def period_label(period: str, start: datetime | None, tz: str, locale: str | None = None) -> str:
    """A short human name of a period: "November 2026", "Q4 2026", "2026" (month named per `locale`)."""
    if start is None or period == "once":
        return ""
    local = start.astimezone(ZoneInfo(tz))
    if period == "monthly":
        if locale:
            # Stand-alone month name ("LLLL"): "November 2026", "März 2026", per Babel's CLDR data.
            return format_date(local.date(), "LLLL y", locale=locale)
        return local.strftime("%B %Y")
    if period == "quarterly":
        return f"Q{(local.month - 1) // 3 + 1} {local.year}"
    return str(local.year)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """UTC [start, end) of a local calendar day (23, 24 or 25 hours long)."""
    zone = ZoneInfo(tz)
    return _local_midnight(day, zone), _local_midnight(day + timedelta(days=1), zone)
