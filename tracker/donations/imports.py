"""Import: a JSON backup or a donations CSV, re-importable without duplicates; the admin's two-step upload.

Between the admin's preview and confirm steps the CSV text travels in the form with an HMAC
over it and the user's id: the server stores nothing, any worker can finish the import, and
what is confirmed is byte for byte what was previewed."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Actor, record_event
from ..campaigns.operations import CampaignInput, MilestoneInput, save_campaign
from ..campaigns.progress import period_key
from ..errors import DomainError, InvalidInput
from ..models import (
    DONATION_SOURCES,
    DONATION_STATUSES,
    Campaign,
    Donation,
    ExchangeRate,
    PaymentMethod,
    utcnow,
)
from ..money import Money, MoneyError, normalize_currency
from ..payments.operations import PaymentMethodInput, save_payment_method
from .export import DONATION_COLUMNS, FORMAT, VERSION, restore_cell
from .ledger import count_in_totals, upsert_for
from .rates import convert, parse_rate


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    #: (line or item number, message) for every refused row.
    errors: list[tuple[int, str]] = field(default_factory=list)
    created_campaigns: list[str] = field(default_factory=list)
    #: Payment methods restored from a backup: hidden from readers until an admin checks and shows each.
    hidden_methods: list[str] = field(default_factory=list)

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
    elif not re.fullmatch(r"[0-9a-f]{32}", str(values["uid"])):
        raise DomainError(f"uid {values['uid']!r} is not 32 hex digits")
    # ON CONFLICT DO NOTHING without a target covers both unique keys (uid and source +
    # external id), so a concurrent import of the same file cannot add a row twice.
    new_id = session.execute(
        upsert_for(session)(Donation).values(**values).on_conflict_do_nothing().returning(Donation.id)).scalar()
    if new_id is None:
        return False
    count_in_totals(session, session.get_one(Donation, new_id), +1)
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
            # Restored hidden: a backup file is not proof that its addresses are still the
            # publisher's, so each is shown again only through the admin, with the password.
            with session.begin_nested():
                restored = save_payment_method(session, PaymentMethodInput(
                    kind=item["kind"], coin=item["coin"], target=item["target"], label=item.get("label", ""),
                    network=item.get("network", "mainnet"), active=False), actor=actor)
            report.hidden_methods.append(restored.target)
        except (DomainError, KeyError, TypeError) as exc:
            report.errors.append((number, f"payment method: {getattr(exc, 'message', exc)}"))
    donations = import_rows(session, enumerate(data.get("donations", []), start=1), actor=actor,
                            campaigns=campaigns, progress=progress)
    report.created, report.skipped = donations.created, donations.skipped
    report.errors.extend(donations.errors)
    return report


#: Larger files go through `tracker import` (the confirm step re-sends the text as a form field).
MAX_IMPORT_BYTES = 400_000


def decode_upload(data: bytes) -> str:
    """The uploaded CSV as text (UTF-8, with or without BOM), or InvalidInput on the file field."""
    if not data:
        raise InvalidInput("choose a CSV file", field="file")
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_IMPORT_BYTES // 1000} kB: "
                           "import it with `tracker import` instead", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text: export it as CSV (UTF-8)", field="file") from None
    if "\x00" in text:
        raise InvalidInput("the file is not a CSV text file", field="file")
    return text


def _run(session: Session, text: str, actor: Actor) -> ImportReport:
    try:
        return import_rows(session, read_csv_rows(io.StringIO(text, newline="")), actor=actor)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read: {exc}", field="file") from None
    except DomainError as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(exc.message, field="file") from None


def preview_import(session: Session, text: str, *, actor: Actor) -> ImportReport:
    """What importing `text` would do; everything it wrote is rolled back."""
    savepoint = session.begin_nested()
    try:
        return _run(session, text, actor)
    finally:
        savepoint.rollback()


def import_confirmed(session: Session, text: str, *, actor: Actor) -> ImportReport:
    """Import `text` (flushed, not committed); the caller commits only when the report is clean."""
    return _run(session, text, actor)


def sign_upload(key: bytes, user_id: int, text: str) -> str:
    """HMAC-SHA256 binding the previewed text to the user who previewed it."""
    return hmac.new(key, f"csv-import:{user_id}:".encode() + text.encode(), hashlib.sha256).hexdigest()


def check_upload(key: bytes, user_id: int, text: str, signature: str) -> None:
    """Refuse text that is not exactly what this user previewed."""
    # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    if not hmac.compare_digest(sign_upload(key, user_id, text).encode(), (signature or "").encode()):
        raise InvalidInput("the previewed file was changed on the way: upload it again", field="file")

