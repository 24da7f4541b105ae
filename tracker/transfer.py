"""Export and import: a complete JSON backup or a donations CSV, re-importable without duplicates."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import Actor, record_event
from .campaigns import CampaignInput, MilestoneInput, save_campaign
from .errors import DomainError
from .ledger import _apply, _insert
from .models import DONATION_SOURCES, DONATION_STATUSES, Campaign, Donation, ExchangeRate, PaymentMethod, utcnow
from .money import Money, MoneyError, normalize_currency
from .payments import PaymentMethodInput, save_payment_method
from .progress import period_key
from .rates import convert, parse_rate

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


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    #: (line or item number, message) for every refused row.
    errors: list[tuple[int, str]] = field(default_factory=list)
    created_campaigns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_time(value: Any, name: str, required: bool = True) -> datetime | None:
    if value in (None, ""):
        if required:
            raise DomainError(f"{name} is missing")
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise DomainError(f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise DomainError(f"{name} {value!r} has no time zone (add +00:00)")
    return moment


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "false", "0", "no"):
        return False
    if text in ("true", "1", "yes"):
        return True
    raise DomainError(f"is_public {value!r} is not true or false")


def import_donation(session: Session, campaigns: dict[str, Campaign], row: dict[str, Any]) -> bool:
    """Insert one exported donation unless its uid or (source, external id) is known.

    The stored amounts and rate are kept as exported, so a restore reproduces the ledger
    exactly; a row without goal_amount is converted at the stored rate of its time instead.
    Returns True when a row was added.
    """
    slug = str(row.get("campaign") or "")
    campaign = campaigns.get(slug)
    if campaign is None:
        raise DomainError(f"no campaign {slug!r}: create it first")
    source = str(row.get("source") or "import")
    if source not in DONATION_SOURCES:
        raise DomainError(f"unknown source {source!r}")
    status = str(row.get("status") or "confirmed")
    if status not in DONATION_STATUSES:
        raise DomainError(f"unknown status {status!r}")
    negative = source == "adjustment"
    amount = Money.parse(str(row.get("amount") or ""), str(row.get("currency") or ""),
                         allow_negative=negative)
    received_at = _parse_time(row.get("received_at"), "received_at")
    assert received_at is not None
    goal_currency = normalize_currency(str(row.get("goal_currency") or campaign.currency))
    if goal_currency != campaign.currency:
        raise DomainError(f"goal_currency {goal_currency} differs from the campaign's {campaign.currency}")
    rate: Decimal | None = None
    rate_source, rate_as_of = row.get("rate_source") or None, _parse_time(row.get("rate_as_of"), "rate_as_of", False)
    if row.get("goal_amount") not in (None, ""):
        goal = Money.parse(str(row["goal_amount"]), goal_currency, allow_negative=negative)
        if amount.currency != goal_currency:
            if not row.get("rate") or not rate_source:
                raise DomainError("a converted amount needs its rate and rate_source")
            rate = parse_rate(str(row["rate"]))
        elif goal != amount:
            raise DomainError("amount and goal_amount differ in the same currency")
    else:
        conversion = convert(session, amount, goal_currency, received_at)
        goal = conversion.converted
        if conversion.rate is not None:
            rate, rate_source, rate_as_of = conversion.rate.rate, conversion.rate.source, conversion.rate.as_of
    if (goal.minor > 0) != (amount.minor > 0):
        raise DomainError("amount and goal_amount have different signs")
    if negative and not str(row.get("reason") or "").strip():
        raise DomainError("an adjustment needs a reason")
    values = dict(
        uid=str(row.get("uid") or "") or None, campaign_id=campaign.id, amount_minor=amount.minor,
        currency=amount.currency, goal_amount_minor=goal.minor, goal_currency=goal_currency, rate=rate,
        rate_source=rate_source, rate_as_of=rate_as_of, source=source,
        external_id=(str(row.get("external_id")).strip() or None) if row.get("external_id") else None,
        status=status, donor_name=row.get("donor_name") or None, message=row.get("message") or None,
        is_public=_flag(row.get("is_public")), reason=str(row.get("reason") or ""),
        received_at=received_at, period_start=period_key(campaign, received_at),
        recorded_at=_parse_time(row.get("recorded_at"), "recorded_at", False) or utcnow(),
        updated_at=utcnow(),
    )
    if values["uid"] is None:
        del values["uid"]
    elif not re.fullmatch(r"[0-9a-f]{32}", values["uid"]):
        raise DomainError(f"uid {values['uid']!r} is not 32 hex digits")
    # ON CONFLICT DO NOTHING without a target covers both unique keys (uid and source +
    # external id), so a concurrent import of the same file cannot add a row twice.
    new_id = session.execute(
        _insert(session)(Donation).values(**values).on_conflict_do_nothing().returning(Donation.id)).scalar()
    if new_id is None:
        return False
    _apply(session, session.get_one(Donation, new_id), +1)
    return True


def import_rows(session: Session, rows: Iterable[tuple[int, dict[str, Any]]], *, actor: Actor,
                campaigns: dict[str, Campaign] | None = None,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import donation rows (line number, record); each bad row is reported, none half-saved.

    Each row runs in a savepoint, so a refused row leaves nothing behind; the caller decides
    whether to commit the rest (the CLI commits only a report without errors).
    """
    report = ImportReport()
    if campaigns is None:
        campaigns = {c.slug: c for c in session.scalars(select(Campaign))}
    seen: dict[str, int] = {}
    for line, row in rows:
        if not row.get("uid") and not row.get("external_id"):
            row = dict(row, uid=content_uid(row, seen))
        try:
            with session.begin_nested():
                added = import_donation(session, campaigns, row)
        except (DomainError, MoneyError) as exc:
            report.errors.append((line, getattr(exc, "message", str(exc))))
            added = None
        if added:
            report.created += 1
        elif added is False:
            report.skipped += 1
        if progress:
            progress(1)
    record_event(session, actor, "donation.import", entity="donation",
                 after={"created": report.created, "skipped": report.skipped, "errors": len(report.errors)})
    return report


def content_uid(row: dict[str, Any], seen: dict[str, int]) -> str:
    """A stable uid for a row that has neither uid nor external id, so re-importing it adds nothing.

    Made from the row's content plus how many identical rows came before it in the same
    file, so two genuinely identical gifts in one file stay two donations.
    """
    content = json.dumps({key: str(row.get(key) or "") for key in DONATION_COLUMNS if key != "uid"},
                         sort_keys=True)
    occurrence = seen[content] = seen.get(content, 0) + 1
    return hashlib.sha256(f"{content}#{occurrence}".encode()).hexdigest()[:32]


def read_csv_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs from a donations CSV, apostrophe-neutralised cells restored."""
    reader = csv.DictReader(text)
    missing = {"campaign", "amount", "currency", "received_at"} - set(reader.fieldnames or ())
    if missing:
        raise DomainError(f"the CSV lacks the column(s) {', '.join(sorted(missing))}")
    for row in reader:
        yield reader.line_num, {key: restore_cell(value or "") for key, value in row.items() if key}


def import_json(session: Session, data: dict[str, Any], *, actor: Actor,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a backup made by `export_json`: campaigns, rates and methods that are new, then donations."""
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise DomainError(f"not a {FORMAT} export (version {VERSION})")
    report = ImportReport()
    campaigns = {c.slug: c for c in session.scalars(select(Campaign))}
    for number, item in enumerate(data.get("campaigns", []), start=1):
        if item.get("slug") in campaigns:
            continue
        try:
            with session.begin_nested():
                currency = item["currency"]
                campaign = save_campaign(session, CampaignInput(
                    slug=item["slug"], title=item["title"], description=item.get("description", ""),
                    target=Money.parse(item["target"], currency), period=item["period"],
                    timezone=item["timezone"], starts_at=_parse_time(item.get("starts_at"), "starts_at", False),
                    ends_at=_parse_time(item.get("ends_at"), "ends_at", False), status=item["status"],
                    display=item.get("display") or {},
                    milestones=[MilestoneInput(Money.parse(m["amount"], currency), m.get("label", ""))
                                for m in item.get("milestones", [])]), actor=actor)
        except (DomainError, MoneyError, KeyError, TypeError) as exc:
            report.errors.append((number, f"campaign: {getattr(exc, 'message', exc)}"))
            continue
        campaigns[campaign.slug] = campaign
        report.created_campaigns.append(campaign.slug)
    for number, item in enumerate(data.get("exchange_rates", []), start=1):
        try:
            as_of = _parse_time(item.get("as_of"), "as_of")
            exists = session.scalar(select(ExchangeRate.id).where(
                ExchangeRate.base == item["base"], ExchangeRate.quote == item["quote"],
                ExchangeRate.as_of == as_of, ExchangeRate.source == item["source"]))
            if exists is None:
                with session.begin_nested():
                    session.add(ExchangeRate(base=normalize_currency(item["base"]),
                                             quote=normalize_currency(item["quote"]),
                                             rate=parse_rate(item["rate"]), as_of=as_of, source=item["source"]))
        except (DomainError, MoneyError, KeyError, TypeError) as exc:
            report.errors.append((number, f"exchange rate: {getattr(exc, 'message', exc)}"))
    for number, item in enumerate(data.get("payment_methods", []), start=1):
        exists = session.scalar(select(PaymentMethod.id).where(
            PaymentMethod.target == item.get("target"), PaymentMethod.network == item.get("network")))
        if exists is not None:
            continue
        try:
            with session.begin_nested():
                save_payment_method(session, PaymentMethodInput(
                    kind=item["kind"], coin=item["coin"], target=item["target"], label=item.get("label", ""),
                    network=item.get("network", "mainnet"), active=bool(item.get("active", True))), actor=actor)
        except (DomainError, KeyError, TypeError) as exc:
            report.errors.append((number, f"payment method: {getattr(exc, 'message', exc)}"))
    donations = import_rows(session, enumerate(data.get("donations", []), start=1), actor=actor,
                            campaigns=campaigns, progress=progress)
    report.created, report.skipped = donations.created, donations.skipped
    report.errors.extend(donations.errors)
    return report


def csv_text(session: Session, campaign_slug: str | None = None) -> str:
    """The donations CSV as one string (for downloads of modest ledgers)."""
    buffer = io.StringIO()
    export_csv(session, buffer, campaign_slug)
    return buffer.getvalue()
