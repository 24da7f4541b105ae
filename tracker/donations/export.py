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
from ..money import Money, exponent

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


#: Rows fetched from the database at a time (a million-gift export never holds more).
BATCH = 5000


def _amount(minor: int, places: int) -> str:
    """`Money.plain` without building a Money: the export formats millions of amounts."""
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def iter_donation_rows(session: Session, campaign_id: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Every donation in ledger order as a tuple of DONATION_COLUMNS' values, exact and plain.

    Plain columns in batches, not ORM objects, so export runs at tens of thousands of rows a
    second and its memory stays flat whatever the size of the ledger.
    """
    slugs = {row_id: slug for row_id, slug in session.execute(select(Campaign.id, Campaign.slug))}
    places: dict[str, int] = {}
    query = select(
        Donation.uid, Donation.campaign_id, Donation.amount_minor, Donation.currency, Donation.goal_amount_minor,
        Donation.goal_currency, Donation.rate, Donation.rate_source, Donation.rate_as_of, Donation.source,
        Donation.external_id, Donation.status, Donation.donor_name, Donation.message, Donation.is_public,
        Donation.reason, Donation.received_at, Donation.recorded_at).order_by(Donation.id)
    if campaign_id is not None:
        query = query.where(Donation.campaign_id == campaign_id)
    for (uid, campaign, amount, currency, goal, goal_currency, rate, rate_source, rate_as_of, source, external_id,
         status, donor_name, message, is_public, reason, received_at, recorded_at) in session.execute(
            query.execution_options(yield_per=BATCH)):
        for code in (currency, goal_currency):
            if code not in places:
                places[code] = exponent(code)
        yield (uid, slugs[campaign], _amount(amount, places[currency]), currency,
               _amount(goal, places[goal_currency]), goal_currency,
               format(rate, "f") if rate is not None else None, rate_source, _iso(rate_as_of), source,
               external_id, status, donor_name, message, is_public, reason, _iso(received_at), _iso(recorded_at))


def iter_donations(session: Session, campaign_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every donation in ledger order as plain, exact data (money as decimal strings), streamed."""
    for row in iter_donation_rows(session, campaign_id):
        yield dict(zip(DONATION_COLUMNS, row, strict=True))


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
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for record in iter_donations(session):
        out.write(("\n  " if count == 0 else ",\n  ") + encode(record))
        count += 1
        if progress and count % 1000 == 0:
            progress(1000)
    if progress:
        progress(count % 1000)
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


def csv_lines(session: Session, campaign_id: int | None = None, *, bom: bool = False,
              progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The donations CSV, a few thousand rows per chunk: for a streamed download or a file.

    `bom`: start with a UTF-8 byte order mark, which spreadsheet programs (LibreOffice,
    Excel) need to read the file as UTF-8 rather than guess ("ZoÃ«" for "Zoë").
    `progress` is told how many rows each chunk holds.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(DONATION_COLUMNS)
    rows = 0
    for row in iter_donation_rows(session, campaign_id):
        writer.writerow([neutralise_cell(value) for value in row])
        rows += 1
        if rows == 2000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(rows)
            rows = 0
    yield buffer.getvalue()
    if progress:
        progress(rows)


def export_csv(session: Session, out: IO[str], campaign_id: int | None = None,
               progress: Callable[[int], None] | None = None, *, bom: bool = False) -> int:
    """Write every donation as CSV, cells neutralised against formula injection; the number written."""
    counted = [0]

    def count(rows: int) -> None:
        counted[0] += rows
        if progress:
            progress(rows)

    for chunk in csv_lines(session, campaign_id, bom=bom, progress=count):
        out.write(chunk)
    return counted[0]
