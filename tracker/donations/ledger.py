"""The donation ledger: record, confirm, refund, correct and adjust; keeps period totals in step.

Every function here flushes and never commits: the caller (a request, a CLI command)
owns the transaction, so a donation and the totals it changes land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..audit import Actor, record_event, snapshot
from ..campaigns.progress import campaign_progress, period_key
from ..db import lock, upsert_for
from ..errors import Conflict, InvalidInput, NotFound
from ..events import donation_changed
from ..models import (
    DONATION_SOURCES,
    DONATION_STATUSES,
    ArticleTotal,
    Campaign,
    DayTotal,
    Donation,
    PeriodTotal,
    utcnow,
)
from ..money import MAX_MINOR, Money
from .rates import Conversion, convert

_MAX_TEXT = {"donor_name": 200, "external_id": 200, "ref": 200}


@dataclass(frozen=True)
class Recorded:
    donation: Donation
    #: False when the (source, external id) was already in the ledger: nothing was added.
    created: bool


def get_donation(session: Session, donation_id: int) -> Donation:
    """The donation with this id, or NotFound."""
    donation = session.get(Donation, donation_id)
    if donation is None:
        raise NotFound("there is no such donation")
    return donation


def _bump_total(session: Session, campaign_id: int, period_start: datetime, *, raised: int = 0,
                pending: int = 0, confirmed_count: int = 0, pending_count: int = 0) -> None:
    """Add deltas to a period's total with one atomic UPDATE (row-locked on PostgreSQL)."""
    insert = upsert_for(session)
    session.execute(
        insert(PeriodTotal)
        .values(campaign_id=campaign_id, period_start=period_start, raised_minor=0, pending_minor=0,
                confirmed_count=0, pending_count=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["campaign_id", "period_start"]))
    session.execute(
        update(PeriodTotal)
        .where(PeriodTotal.campaign_id == campaign_id, PeriodTotal.period_start == period_start)
        .values(raised_minor=PeriodTotal.raised_minor + raised,
                pending_minor=PeriodTotal.pending_minor + pending,
                confirmed_count=PeriodTotal.confirmed_count + confirmed_count,
                pending_count=PeriodTotal.pending_count + pending_count,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))


def _effect(status: str, source: str, goal_amount_minor: int, sign: int) -> dict[str, int]:
    """What one entry contributes to its period total (sign -1 takes it back out)."""
    counted = 0 if source == "adjustment" else 1
    if status == "confirmed":
        return {"raised": sign * goal_amount_minor, "confirmed_count": sign * counted}
    if status == "pending":
        return {"pending": sign * goal_amount_minor, "pending_count": sign * counted}
    return {}


def _day_effect(status: str, source: str, goal_amount_minor: int, sign: int) -> dict[str, int]:
    """What one entry contributes to its day's total: confirmed gifts, adjustments apart."""
    if status != "confirmed":
        return {}
    if source == "adjustment":
        return {"adjusted": sign * goal_amount_minor}
    return {"gifts": sign * goal_amount_minor, "count": sign}


def local_day(campaign: Campaign, received_at: datetime) -> date:
    """The calendar day in the campaign's zone on which a gift was received."""
    return received_at.astimezone(ZoneInfo(campaign.timezone)).date()


def _bump_day(session: Session, campaign_id: int, day: date, *, gifts: int = 0, count: int = 0,
              adjusted: int = 0) -> None:
    """Add deltas to a day's total (created on first use), like `_bump_total`."""
    session.execute(
        upsert_for(session)(DayTotal)
        .values(campaign_id=campaign_id, day=day, gifts_minor=0, gift_count=0, adjusted_minor=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["campaign_id", "day"]))
    session.execute(
        update(DayTotal).where(DayTotal.campaign_id == campaign_id, DayTotal.day == day)
        .values(gifts_minor=DayTotal.gifts_minor + gifts, gift_count=DayTotal.gift_count + count,
                adjusted_minor=DayTotal.adjusted_minor + adjusted, updated_at=utcnow())
        .execution_options(synchronize_session=False))


def _counts_for_article(status: str, source: str) -> bool:
    """Whether an entry with an article is in that article's total: a confirmed gift, not an adjustment."""
    return status == "confirmed" and source != "adjustment"


def _bump_article(session: Session, campaign_id: int, ref: str, period_start: datetime, *, count: int,
                  gifts: int) -> None:
    """Add deltas to an article's total for a period (created on first use), like `_bump_total`."""
    session.execute(
        upsert_for(session)(ArticleTotal)
        .values(campaign_id=campaign_id, ref=ref, period_start=period_start, gift_count=0, gifts_minor=0,
                updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["campaign_id", "ref", "period_start"]))
    session.execute(
        update(ArticleTotal)
        .where(ArticleTotal.campaign_id == campaign_id, ArticleTotal.ref == ref,
               ArticleTotal.period_start == period_start)
        .values(gift_count=ArticleTotal.gift_count + count, gifts_minor=ArticleTotal.gifts_minor + gifts,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))


def count_in_totals(session: Session, donation: Donation, sign: int) -> None:
    """Add (`sign` +1) or take back out (-1) what `donation` contributes to its period, day and article totals."""
    effect = _effect(donation.status, donation.source, donation.goal_amount_minor, sign)
    if effect:
        _bump_total(session, donation.campaign_id, donation.period_start, **effect)
    day_effect = _day_effect(donation.status, donation.source, donation.goal_amount_minor, sign)
    if day_effect:
        campaign = session.get_one(Campaign, donation.campaign_id)
        _bump_day(session, donation.campaign_id, local_day(campaign, donation.received_at), **day_effect)
    if donation.ref is not None and _counts_for_article(donation.status, donation.source):
        _bump_article(session, donation.campaign_id, donation.ref, donation.period_start, count=sign,
                      gifts=sign * donation.goal_amount_minor)


def count_many_in_totals(session: Session, entries: Iterable[Mapping[str, Any]]) -> None:
    """Add many new entries (mappings of Donation's columns) to the totals: one update per period and day.

    A bulk import of 100,000 gifts into one monthly campaign touches a dozen period totals and
    a few hundred day totals, not 100,000 times the same rows.
    """
    deltas: dict[tuple[int, datetime], dict[str, int]] = {}
    days: dict[tuple[int, date], dict[str, int]] = {}
    articles: dict[tuple[int, str, datetime], list[int]] = {}
    zones: dict[int, Campaign] = {}
    for entry in entries:
        ref = entry.get("ref")
        if ref is not None and _counts_for_article(entry["status"], entry["source"]):
            article = articles.setdefault((entry["campaign_id"], ref, entry["period_start"]), [0, 0])
            article[0] += 1
            article[1] += entry["goal_amount_minor"]
        effect = _effect(entry["status"], entry["source"], entry["goal_amount_minor"], +1)
        total = deltas.setdefault((entry["campaign_id"], entry["period_start"]), {})
        for name, value in effect.items():
            total[name] = total.get(name, 0) + value
        day_effect = _day_effect(entry["status"], entry["source"], entry["goal_amount_minor"], +1)
        if day_effect:
            campaign = zones.get(entry["campaign_id"]) or zones.setdefault(
                entry["campaign_id"], session.get_one(Campaign, entry["campaign_id"]))
            day_total = days.setdefault((entry["campaign_id"], local_day(campaign, entry["received_at"])), {})
            for name, value in day_effect.items():
                day_total[name] = day_total.get(name, 0) + value
    for (campaign_id, period_start), delta in sorted(deltas.items()):
        if delta:
            _bump_total(session, campaign_id, period_start, **delta)
    for (campaign_id, day), delta in sorted(days.items()):
        _bump_day(session, campaign_id, day, **delta)
    for (campaign_id, ref, period_start), (count, gifts) in sorted(articles.items()):
        _bump_article(session, campaign_id, ref, period_start, count=count, gifts=gifts)


def _clean_text(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if "\x00" in value:  # PostgreSQL cannot store NUL in text; nobody types one on purpose
        raise InvalidInput(f"{field.replace('_', ' ')} contains a NUL character", field=field)
    limit = _MAX_TEXT.get(field)
    if limit and len(value) > limit:
        raise InvalidInput(f"{field.replace('_', ' ')} is too long (at most {limit} characters)", field=field)
    return value or None


def record_donation(
    session: Session,
    campaign: Campaign,
    amount: Money,
    *,
    actor: Actor,
    source: str = "manual",
    external_id: str | None = None,
    status: str = "confirmed",
    received_at: datetime | None = None,
    donor_name: str | None = None,
    message: str | None = None,
    is_public: bool = False,
    reason: str = "",
    audit: bool = True,
    ref: str | None = None,
) -> Recorded:
    """Add a donation, converted to the goal currency; idempotent on (source, external_id)."""
    if source not in DONATION_SOURCES:
        raise InvalidInput(f"unknown source {source!r}", field="source")
    if status not in DONATION_STATUSES or status == "refunded":
        raise InvalidInput("a new donation is pending or confirmed", field="status")
    if source == "adjustment":
        if not reason.strip():
            raise InvalidInput("an adjustment needs a reason", field="reason")
    elif amount.minor <= 0:
        raise InvalidInput("the amount must be more than zero", field="amount")
    if amount.minor == 0:
        raise InvalidInput("the amount must not be zero", field="amount")
    _within_limit(amount)
    received_at = received_at or utcnow()
    if received_at.tzinfo is None:
        raise InvalidInput("the time received needs a time zone", field="received_at")
    external_id = _clean_text(external_id, "external_id")
    conversion = convert(session, amount, campaign.currency, received_at)
    values = dict(
        campaign_id=campaign.id, amount_minor=amount.minor, currency=amount.currency,
        goal_amount_minor=conversion.converted.minor, goal_currency=campaign.currency,
        rate=conversion.rate.rate if conversion.rate else None,
        rate_source=conversion.rate.source if conversion.rate else None,
        rate_as_of=conversion.rate.as_of if conversion.rate else None,
        exchange_rate_id=conversion.rate.id if conversion.rate else None,
        source=source, external_id=external_id, status=status,
        donor_name=_clean_text(donor_name, "donor_name"), message=_clean_text(message, "message"),
        is_public=bool(is_public), reason=reason.strip(), ref=_clean_text(ref, "ref"), received_at=received_at,
        period_start=period_key(campaign, received_at), recorded_at=utcnow(),
        recorded_by_id=actor.user_id, updated_at=utcnow(),
    )
    if external_id is None:
        donation = Donation(**values)
        session.add(donation)
        session.flush()
    else:
        # INSERT … ON CONFLICT DO NOTHING: of two identical requests at once, the database
        # lets exactly one insert; the other finds the existing row. No check-then-insert race.
        new_id = session.execute(
            upsert_for(session)(Donation).values(**values)
            .on_conflict_do_nothing(index_elements=["source", "external_id"])
            .returning(Donation.id)).scalar()
        if new_id is None:
            existing = session.scalar(select(Donation).where(
                Donation.source == source, Donation.external_id == external_id))
            assert existing is not None  # the conflict means it exists and is committed
            return Recorded(existing, created=False)
        donation = session.get_one(Donation, new_id)
    count_in_totals(session, donation, +1)
    if audit:
        record_event(session, actor, f"donation.{'adjust' if source == 'adjustment' else 'record'}", donation)
    donation_changed(session, donation, "record")
    return Recorded(donation, created=True)


def typed_external_id(reference: str | None, form_key: str) -> str:
    """The idempotency key of a gift typed in the admin: its bank or transaction reference, if given,
    else the one-time key of the form page, so a double-submitted form records one gift."""
    reference = (reference or "").strip()
    return f"ref:{reference}" if reference else f"form:{form_key}"


def conversion_key(conversion: Conversion) -> str:
    """Names one conversion exactly: the rate row, the amount and the result."""
    assert conversion.rate is not None
    return f"{conversion.rate.id}:{conversion.amount}:{conversion.converted}"


class RateNotConfirmed(Conflict):
    """A typed gift needs converting: the admin must see this exact conversion and confirm it."""

    def __init__(self, conversion: Conversion) -> None:
        super().__init__("check the conversion, then confirm it", field="amount")
        self.conversion = conversion
        #: What the confirming form sends back to say it was shown this conversion.
        self.key = conversion_key(conversion)


def record_typed_donation(session: Session, campaign: Campaign, amount: Money, *, actor: Actor,
                          shown_rate: str | None, reference: str | None, form_key: str,
                          received_at: datetime | None = None, **details: Any) -> Recorded:
    """Record a gift typed in the admin; one in another currency only once its conversion was confirmed.

    `shown_rate` is the `RateNotConfirmed.key` the admin was shown. If the rate changed in the
    meantime (a newer one was entered), the key no longer matches and the new conversion is
    shown instead: nobody confirms a figure they did not see.
    """
    conversion = convert(session, amount, campaign.currency, received_at or utcnow())
    if conversion.rate is not None and shown_rate != conversion_key(conversion):
        raise RateNotConfirmed(conversion)
    return record_donation(session, campaign, amount, actor=actor, external_id=typed_external_id(reference, form_key),
                           received_at=received_at, **details)

def _within_limit(amount: Money) -> None:
    """Every ledger entry, adjustments included, stays within the amount a backup can restore."""
    if abs(amount.minor) > MAX_MINOR:
        raise InvalidInput(f"{amount} is more than the largest amount allowed in one entry", field="amount")


def _change(session: Session, donation: Donation, actor: Actor, action: str, **changes: Any) -> Donation:
    """Apply `changes` to a donation, moving its contribution between totals, and audit it."""
    before = snapshot(donation)
    count_in_totals(session, donation, -1)
    for key, value in changes.items():
        setattr(donation, key, value)
    donation.updated_at = utcnow()
    session.flush()
    count_in_totals(session, donation, +1)
    record_event(session, actor, action, donation, before=before)
    donation_changed(session, donation, action.removeprefix("donation."))
    return donation


def confirm_donation(session: Session, donation: Donation, *, actor: Actor) -> Donation:
    """Mark a pending donation as received: it moves from pending to raised."""
    donation = lock(session, donation)
    if donation.status != "pending":
        raise Conflict(f"only a pending donation can be confirmed (this one is {donation.status})")
    return _change(session, donation, actor, "donation.confirm", status="confirmed")


def refund_donation(session: Session, donation: Donation, *, actor: Actor, reason: str) -> Donation:
    """Refund (or reverse) a donation: it stays in the ledger, marked refunded, with a reason."""
    donation = lock(session, donation)
    if donation.status == "refunded":
        raise Conflict("this donation is already refunded")
    if donation.source == "adjustment":
        raise Conflict("an adjustment is corrected by another adjustment, not refunded")
    if not reason.strip():
        raise InvalidInput("say why the donation is refunded or reversed", field="reason")
    return _change(session, donation, actor, "donation.refund", status="refunded", reason=reason.strip())


def correct_donation(session: Session, donation: Donation, campaign: Campaign, *, actor: Actor,
                     amount: Money | None = None, received_at: datetime | None = None,
                     donor_name: str | None = None, message: str | None = None,
                     is_public: bool | None = None, reason: str = "") -> Donation:
    """Edit a donation's amount, date or donor details; totals and audit follow."""
    donation = lock(session, donation)
    if donation.status == "refunded":
        raise Conflict("a refunded donation cannot be edited")
    if not reason.strip():
        raise InvalidInput("say why the donation is corrected", field="reason")
    changes: dict[str, Any] = {"reason": reason.strip()}
    when = received_at or donation.received_at
    if received_at is not None:
        if received_at.tzinfo is None:
            raise InvalidInput("the time received needs a time zone", field="received_at")
        changes["received_at"] = received_at
        changes["period_start"] = period_key(campaign, received_at)
    if amount is not None or received_at is not None:
        amount = amount or Money(donation.amount_minor, donation.currency)
        if amount.minor <= 0 and donation.source != "adjustment":
            raise InvalidInput("the amount must be more than zero", field="amount")
        conversion = convert(session, amount, campaign.currency, when)
        changes.update(
            amount_minor=amount.minor, currency=amount.currency,
            goal_amount_minor=conversion.converted.minor,
            rate=conversion.rate.rate if conversion.rate else None,
            rate_source=conversion.rate.source if conversion.rate else None,
            rate_as_of=conversion.rate.as_of if conversion.rate else None,
            exchange_rate_id=conversion.rate.id if conversion.rate else None)
    if donor_name is not None:
        changes["donor_name"] = _clean_text(donor_name, "donor_name")
    if message is not None:
        changes["message"] = _clean_text(message, "message")
    if is_public is not None:
        changes["is_public"] = is_public
    return _change(session, donation, actor, "donation.correct", **changes)


def adjust_raised_to(session: Session, campaign: Campaign, raised: Money, *, actor: Actor,
                     reason: str, now: datetime | None = None) -> Donation | None:
    """"Set raised to X": record an adjustment of the difference in the current period.

    Returns None when the total already is X (nothing to record).
    """
    if raised.currency != campaign.currency:
        raise InvalidInput(f"give the total in the goal currency, {campaign.currency}", field="amount")
    now = now or utcnow()
    # Under the campaign's lock, so two "set raised to" at once adjust once: the second sees
    # the first one's adjustment in the total and finds nothing left to do.
    campaign = lock(session, campaign)
    current = campaign_progress(session, campaign, now).raised
    difference = raised - current
    if not difference:
        return None
    return record_donation(session, campaign, difference, actor=actor, source="adjustment",
                           received_at=now, reason=reason).donation


def rebuild_totals(session: Session, campaign: Campaign) -> None:
    """Recompute every donation's period and the campaign's totals from the ledger.

    Needed when a campaign's period or time zone changes, which moves period boundaries.
    """
    session.flush()
    # Streamed in batches of plain rows, not ORM objects, so a large ledger fits in memory.
    rows = session.execute(
        select(Donation.id, Donation.received_at, Donation.period_start)
        .where(Donation.campaign_id == campaign.id).execution_options(yield_per=5000))
    moved = []
    for donation_id, received_at, current in rows:
        key = period_key(campaign, received_at)
        if key != current:
            moved.append({"id": donation_id, "period_start": key})
    for first in range(0, len(moved), 5000):
        session.execute(update(Donation), moved[first:first + 5000])
    session.expire_all()
    session.query(PeriodTotal).filter(PeriodTotal.campaign_id == campaign.id).delete(
        synchronize_session=False)
    for row in _ledger_totals(session, campaign.id):
        session.add(PeriodTotal(campaign_id=campaign.id, **row, updated_at=utcnow()))
    session.query(DayTotal).filter(DayTotal.campaign_id == campaign.id).delete(synchronize_session=False)
    for day, row in sorted(_ledger_days(session, campaign).items()):
        session.add(DayTotal(campaign_id=campaign.id, day=day, **row, updated_at=utcnow()))
    session.query(ArticleTotal).filter(ArticleTotal.campaign_id == campaign.id).delete(synchronize_session=False)
    for (ref, period_start), (count, gifts) in sorted(_ledger_articles(session, campaign.id).items()):
        session.add(ArticleTotal(campaign_id=campaign.id, ref=ref, period_start=period_start, gift_count=count,
                                 gifts_minor=gifts, updated_at=utcnow()))
    session.flush()


def _ledger_articles(session: Session, campaign_id: int) -> dict[tuple[str, datetime], tuple[int, int]]:
    """Article totals summed straight from the ledger: (ref, period start) -> (gifts, minor units)."""
    rows = session.execute(
        select(Donation.ref, Donation.period_start, func.count(), func.sum(Donation.goal_amount_minor))
        .where(Donation.campaign_id == campaign_id, Donation.ref.is_not(None), Donation.status == "confirmed",
               Donation.source != "adjustment")
        .group_by(Donation.ref, Donation.period_start))
    return {(str(ref), start): (int(count), int(total)) for ref, start, count, total in rows}


def _ledger_days(session: Session, campaign: Campaign) -> dict[date, dict[str, int]]:
    """Day totals from the ledger, streamed: the local day depends on the zone, so it is found in Python."""
    days: dict[date, dict[str, int]] = {}
    rows = session.execute(
        select(Donation.received_at, Donation.source, Donation.goal_amount_minor)
        .where(Donation.campaign_id == campaign.id, Donation.status == "confirmed")
        .execution_options(yield_per=5000))
    for received_at, source, amount in rows:
        total = days.setdefault(local_day(campaign, received_at),
                                {"gifts_minor": 0, "gift_count": 0, "adjusted_minor": 0})
        if source == "adjustment":
            total["adjusted_minor"] += amount
        else:
            total["gifts_minor"] += amount
            total["gift_count"] += 1
    return days


def _ledger_totals(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    """Period totals summed straight from the ledger (the slow, obviously right way)."""
    counted = Donation.source != "adjustment"
    confirmed, pending = Donation.status == "confirmed", Donation.status == "pending"
    rows = session.execute(
        select(
            Donation.period_start,
            func.coalesce(func.sum(Donation.goal_amount_minor).filter(confirmed), 0),
            func.coalesce(func.sum(Donation.goal_amount_minor).filter(pending), 0),
            func.count().filter(confirmed, counted),
            func.count().filter(pending, counted),
        )
        .where(Donation.campaign_id == campaign_id, Donation.status != "refunded")
        .group_by(Donation.period_start))
    return [dict(period_start=start, raised_minor=int(raised), pending_minor=int(pend),
                 confirmed_count=conf, pending_count=pcount)
            for start, raised, pend, conf, pcount in rows]


def verify_totals(session: Session, campaign: Campaign) -> list[str]:
    """Differences between the maintained totals and the ledger; empty when they agree."""
    expected = {row["period_start"]: row for row in _ledger_totals(session, campaign.id)}
    problems = []
    stored = session.scalars(select(PeriodTotal).where(PeriodTotal.campaign_id == campaign.id))
    seen = set()
    for total in stored:
        seen.add(total.period_start)
        want = expected.get(total.period_start, dict(raised_minor=0, pending_minor=0,
                                                     confirmed_count=0, pending_count=0))
        for key in ("raised_minor", "pending_minor", "confirmed_count", "pending_count"):
            if getattr(total, key) != want[key]:
                problems.append(f"{campaign.slug} {total.period_start:%Y-%m-%d}: {key} is "
                                f"{getattr(total, key)}, the ledger says {want[key]}")
    for start in set(expected) - seen:
        problems.append(f"{campaign.slug} {start:%Y-%m-%d}: no total kept for a period with donations")
    kept_days = {row.day: row for row in session.scalars(select(DayTotal).where(DayTotal.campaign_id == campaign.id))}
    ledger_days = _ledger_days(session, campaign)
    empty = {"gifts_minor": 0, "gift_count": 0, "adjusted_minor": 0}
    for day in sorted(set(kept_days) | set(ledger_days)):
        want = ledger_days.get(day, empty)
        kept = kept_days.get(day)
        for key, value in want.items():
            have = getattr(kept, key) if kept is not None else 0
            if have != value:
                problems.append(f"{campaign.slug} day {day}: {key} is {have}, the ledger says {value}")
    kept_articles = {(row.ref, row.period_start): (row.gift_count, row.gifts_minor) for row in session.scalars(
        select(ArticleTotal).where(ArticleTotal.campaign_id == campaign.id))}
    ledger_articles = _ledger_articles(session, campaign.id)
    for article in sorted(set(kept_articles) | set(ledger_articles)):
        kept_total, ledger_total = kept_articles.get(article, (0, 0)), ledger_articles.get(article, (0, 0))
        if kept_total != ledger_total:
            problems.append(f"{campaign.slug} article {article[0]} {article[1]:%Y-%m-%d}: {kept_total[0]} gifts of "
                            f"{kept_total[1]} kept, the ledger says {ledger_total[0]} of {ledger_total[1]}")
    return problems
