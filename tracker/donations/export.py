"""Export: a complete JSON backup or the donations as CSV (formula-safe), streamed from the ledger."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import IO, Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Campaign, Donation, ExchangeRate, PaymentMethod, utcnow
from ..money import Money

FORMAT = "reader-support-tracker"


VERSION = 1


DONATION_COLUMNS = (
    "uid", "campaign", "amount", "currency", "goal_amount", "goal_currency", "rate", "rate_source",
    "rate_as_of", "source", "external_id", "status", "donor_name", "message", "is_public", "reason",
    "received_at", "recorded_at",
)


#: Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def donation_record(donation: Donation, slug: str) -> dict[str, Any]:
    """One donation as plain, exact data (money as decimal strings)."""
    return {
        "uid": donation.uid,
        "campaign": slug,
        "amount": Money(donation.amount_minor, donation.currency).plain(),
        "currency": donation.currency,
        "goal_amount": Money(donation.goal_amount_minor, donation.goal_currency).plain(),
        "goal_currency": donation.goal_currency,
        "rate": format(donation.rate, "f") if donation.rate is not None else None,
        "rate_source": donation.rate_source,
        "rate_as_of": _iso(donation.rate_as_of),
        "source": donation.source,
        "external_id": donation.external_id,
        "status": donation.status,
        "donor_name": donation.donor_name,
        "message": donation.message,
        "is_public": donation.is_public,
        "reason": donation.reason,
        "received_at": _iso(donation.received_at),
        "recorded_at": _iso(donation.recorded_at),
    }


def iter_donations(session: Session, campaign_slug: str | None = None) -> Iterator[dict[str, Any]]:
    """Every donation in ledger order, streamed (never the whole ledger in memory)."""
    query = (select(Donation, Campaign.slug).join(Campaign, Donation.campaign_id == Campaign.id)
             .order_by(Donation.id).execution_options(yield_per=1000))
    if campaign_slug:
        query = query.where(Campaign.slug == campaign_slug)
    for donation, slug in session.execute(query):
        yield donation_record(donation, slug)


def export_json(session: Session, out: IO[str], progress: Callable[[int], None] | None = None) -> int:
    """Write a complete backup; returns the number of donations written."""
    campaigns = [{
        "slug": c.slug, "title": c.title, "description": c.description, "currency": c.currency,
        "target": Money(c.target_minor, c.currency).plain(), "period": c.period, "timezone": c.timezone,
        "starts_at": _iso(c.starts_at), "ends_at": _iso(c.ends_at), "status": c.status,
        "display": c.display,
        "milestones": [{"amount": Money(m.amount_minor, c.currency).plain(), "label": m.label}
                       for m in c.milestones],
    } for c in session.scalars(select(Campaign).order_by(Campaign.id))]
    rates = [{"base": r.base, "quote": r.quote, "rate": format(r.rate, "f"), "as_of": _iso(r.as_of),
              "source": r.source} for r in session.scalars(select(ExchangeRate).order_by(ExchangeRate.id))]
    methods = [{"kind": m.kind, "coin": m.coin, "network": m.network, "target": m.target,
                "label": m.label, "position": m.position, "active": m.active}
               for m in session.scalars(select(PaymentMethod).order_by(PaymentMethod.position, PaymentMethod.id))]
    head = {"format": FORMAT, "version": VERSION, "exported_at": utcnow().isoformat(),
            "campaigns": campaigns, "exchange_rates": rates, "payment_methods": methods}
    text = json.dumps(head, ensure_ascii=False, indent=1)
    out.write(text[:-2] + ',\n "donations": [')
    count = 0
    for record in iter_donations(session):
        out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
        count += 1
        if progress:
            progress(1)
    out.write("\n ]\n}\n")
    return count


def neutralise_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like text gets a leading apostrophe.

    A leading apostrophe is added to text that starts like a formula and to text that already
    starts with one, so `restore_cell` can always take exactly one off. Plain numbers such as
    "-5.00" are left alone: they cannot run as formulas.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    if text.startswith(_FORMULA_START) or text.startswith("'"):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def export_csv(session: Session, out: IO[str], campaign_slug: str | None = None,
               progress: Callable[[int], None] | None = None) -> int:
    """Write every donation as CSV, cells neutralised against formula injection."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DONATION_COLUMNS)
    count = 0
    for record in iter_donations(session, campaign_slug):
        writer.writerow([neutralise_cell(record[column]) for column in DONATION_COLUMNS])
        count += 1
        if progress:
            progress(1)
    return count


def csv_text(session: Session, campaign_slug: str | None = None) -> str:
    """The donations CSV as one string (for downloads of modest ledgers)."""
    buffer = io.StringIO()
    export_csv(session, buffer, campaign_slug)
    return buffer.getvalue()

