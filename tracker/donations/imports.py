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
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import IO, Any, Callable, Iterable, Iterator, cast

from sqlalchemy import bindparam, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ..audit import Actor, record_event
from ..campaigns.operations import CampaignInput, MilestoneInput, save_campaign
from ..campaigns.progress import period_key
from ..db import upsert_for
from ..errors import DomainError, InvalidInput
from ..models import (
    DONATION_SOURCES,
    DONATION_STATUSES,
    AuditEvent,
    Campaign,
    Donation,
    ExchangeRate,
    PaymentMethod,
    utcnow,
)
from ..money import MAX_MINOR, Money, normalize_currency
from ..payments.operations import PaymentMethodInput, save_payment_method
from .export import DONATION_COLUMNS, FORMAT, VERSION, restore_cell
from .ledger import count_many_in_totals
from .rates import RateBook, parse_rate

#: How many of the new rows the admin's preview shows.
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class PreviewRow:
    """A new row as it will be recorded, for the admin's preview."""

    line: int
    campaign: str
    #: In UTC, as the rest of the back office shows times.
    received_at: datetime
    amount: Money
    goal_amount: Money
    status: str
    source: str
    donor_name: str | None
    #: The row's own key (external id), if it has one.
    reference: str | None
    #: False when the row had neither uid nor external id: it is known by its content only.
    keyed: bool


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    #: (line or item number, message) for every refused row.
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: The first new rows (at most PREVIEW_ROWS), as they will be recorded.
    rows: list[PreviewRow] = field(default_factory=list)
    #: Accepted rows with neither uid nor external id, whose uid was made from their content.
    without_key: int = 0
    created_campaigns: list[str] = field(default_factory=list)
    #: Payment methods restored from a backup: hidden from readers until an admin checks and shows each.
    hidden_methods: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


#: Dates in a file must fall in these years: near year 1 or 9999, moving a date into a
#: campaign's time zone leaves Python's range (an OverflowError, not a message).
FIRST_YEAR, LAST_YEAR = 1900, 9998
#: Rows inserted per statement, and keys looked up per query.
BATCH = 1000
#: The longest text each column holds (PostgreSQL refuses longer text; SQLite would keep it,
#: so a SQLite backup could not be restored on PostgreSQL).
_LIMITS: dict[str, int] = {column.name: cast(Any, column.type).length for column in Donation.__table__.columns
                           if getattr(column.type, "length", None)}


def _parse_time(value: Any, name: str, required: bool = True) -> datetime | None:
    if value in (None, ""):
        if required:
            raise DomainError(f"{name} is missing")
        return None
    text = str(value)
    if not text.isascii():
        raise DomainError(f"{name} {value!r} is not an ISO 8601 time (digits 0-9 only)")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise DomainError(f"{name} {value!r} has no time zone (add +00:00)")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise DomainError(f"{name} {value!r} is not between the years {FIRST_YEAR} and {LAST_YEAR}")
    return moment


#: How a flag's cell says "no" (an empty cell included); "true", "1" and "yes" say yes.
_NO = ("", "false", "0", "no")


def _flag(value: Any, name: str = "is_public") -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _NO:
        return False
    if text in ("true", "1", "yes"):
        return True
    raise DomainError(f"{name} {value!r} is not true or false")


def _text(row: dict[str, Any], name: str) -> str:
    """A cell as text; numbers are refused where money is meant (a float is never exact)."""
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, (bool, float)) or (isinstance(value, int) and name in ("amount", "goal_amount", "rate")):
        raise DomainError(f"{name} must be written as text such as \"12.50\", not as the number {value!r}")
    if not isinstance(value, (str, int)):
        raise DomainError(f"{name} must be text, not {type(value).__name__}")
    return str(value)


def _checked_lengths(values: dict[str, Any]) -> dict[str, Any]:
    for name, value in values.items():
        limit = _LIMITS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise DomainError(f"{name} is too long (at most {limit} characters)")
        if isinstance(value, str) and "\x00" in value:
            raise DomainError(f"{name} contains a NUL character")
    return values


def parse_donation(campaigns: dict[str, Campaign], row: dict[str, Any], book: RateBook,
                   actor: Actor) -> dict[str, Any]:
    """One exported donation as the values of a new ledger row; DomainError with the reason.

    The stored amounts and rate are kept as exported, so a restore reproduces the ledger
    exactly; a row without goal_amount is converted at the stored rate of its time instead.
    Reads rates (through `book`) and writes nothing.
    """
    slug = _text(row, "campaign")
    campaign = campaigns.get(slug)
    if campaign is None:
        raise DomainError(f"no campaign {slug!r}: create it first")
    source = _text(row, "source") or "import"
    if source not in DONATION_SOURCES:
        raise DomainError(f"unknown source {source!r}")
    status = _text(row, "status") or "confirmed"
    if status not in DONATION_STATUSES:
        raise DomainError(f"unknown status {status!r}")
    negative = source == "adjustment"
    amount = Money.parse(_text(row, "amount"), _text(row, "currency"), allow_negative=negative)
    received_at = _parse_time(row.get("received_at"), "received_at")
    assert received_at is not None
    goal_currency = normalize_currency(_text(row, "goal_currency") or campaign.currency)
    if goal_currency != campaign.currency:
        raise DomainError(f"goal_currency {goal_currency} differs from the campaign's {campaign.currency}")
    rate: Decimal | None = None
    rate_source, rate_as_of = _text(row, "rate_source") or None, _parse_time(row.get("rate_as_of"), "rate_as_of", False)
    if _text(row, "goal_amount"):
        goal = Money.parse(_text(row, "goal_amount"), goal_currency, allow_negative=negative)
        if amount.currency != goal_currency:
            if not _text(row, "rate") or not rate_source:
                raise DomainError("a converted amount needs its rate and rate_source")
            rate = parse_rate(_text(row, "rate"))
        elif goal != amount:
            raise DomainError("amount and goal_amount differ in the same currency")
    else:
        conversion = book.convert(amount, goal_currency, received_at)
        goal = conversion.converted
        if conversion.rate is not None:
            rate, rate_source, rate_as_of = conversion.rate.rate, conversion.rate.source, conversion.rate.as_of
    if (goal.minor > 0) != (amount.minor > 0):
        raise DomainError("amount and goal_amount have different signs")
    if max(abs(amount.minor), abs(goal.minor)) > MAX_MINOR:
        raise DomainError("the amount is more than the largest amount allowed in one entry")
    reason = _text(row, "reason")
    if negative and not reason.strip():
        raise DomainError("an adjustment needs a reason")
    uid = _text(row, "uid") or uuid.uuid4().hex
    if not re.fullmatch(r"[0-9a-f]{32}", uid):
        raise DomainError(f"uid {uid!r} is not 32 hex digits")
    now = utcnow()
    return _checked_lengths(dict(
        uid=uid, campaign_id=campaign.id, amount_minor=amount.minor,
        currency=amount.currency, goal_amount_minor=goal.minor, goal_currency=goal_currency, rate=rate,
        rate_source=rate_source, rate_as_of=rate_as_of, source=source,
        external_id=_text(row, "external_id").strip() or None,
        status=status, donor_name=_text(row, "donor_name").strip() or None,
        message=_text(row, "message").strip() or None, is_public=_flag(row.get("is_public")), reason=reason,
        # Both added to the export in December 2026: a file made before has neither (no article, one-off).
        ref=_text(row, "ref").strip() or None, recurring=_flag(row.get("recurring"), "recurring"),
        received_at=received_at, period_start=period_key(campaign, received_at),
        recorded_at=_parse_time(row.get("recorded_at"), "recorded_at", False) or now,
        recorded_by_id=actor.user_id, updated_at=now,
    ))


def import_rows(session: Session, rows: Iterable[tuple[int, dict[str, Any]]], *, actor: Actor,
                campaigns: dict[str, Campaign] | None = None, write: bool = True,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import donation rows (line number, record): all of them, or none when any is refused.

    Set-based, so 100,000 rows take seconds: every row is checked in Python first (rates read
    once per pair), the keys already in the ledger are looked up in batches, then the new rows
    are inserted a thousand per statement, each audited, and the totals updated once per
    period. With `write=False` (the admin's preview) nothing is written at all, so no write
    lock is held while the admin reads the result.
    """
    report = ImportReport()
    if campaigns is None:
        campaigns = {c.slug: c for c in session.scalars(select(Campaign))}
    book = RateBook(session)
    seen: dict[str, int] = {}
    parsed: list[dict[str, Any]] = []
    lines: list[int] = []
    keyless: set[int] = set()
    for line, row in rows:
        if not isinstance(row, dict):
            report.errors.append((line, "a donation must be an object of named values"))
            continue
        # A blank external id is no key (it is stored as none), so such a row is known by its content too.
        without_key = not row.get("uid") and not str(row.get("external_id") or "").strip()
        if without_key:
            row = dict(row, uid=content_uid(row, seen))
        try:
            parsed.append(parse_donation(campaigns, row, book, actor))
            lines.append(line)
            if without_key:
                keyless.add(len(parsed) - 1)
        except DomainError as exc:
            report.errors.append((line, exc.message))
        if progress:
            progress(1)
    new = _not_yet_in_ledger(session, parsed)
    report.skipped = len(parsed) - len(new)
    report.created = len(new)
    report.without_key = len(keyless)
    report.rows = _preview_rows(parsed, lines, keyless, new[:PREVIEW_ROWS], campaigns)
    if write and report.ok and new:
        inserted = _insert_all(session, new, actor)
        report.skipped += report.created - inserted
        report.created = inserted
    if write:
        record_event(session, actor, "donation.import", entity="donation",
                     after={"created": report.created, "skipped": report.skipped, "errors": len(report.errors)})
    return report


def _preview_rows(parsed: list[dict[str, Any]], lines: list[int], keyless: set[int],
                  shown: list[dict[str, Any]], campaigns: dict[str, Campaign]) -> list[PreviewRow]:
    """The rows in `shown` (some of `parsed`, in order) with their line numbers, as the preview lists them."""
    wanted = {id(values) for values in shown}
    slugs = {campaign.id: slug for slug, campaign in campaigns.items()}
    rows = []
    for index, values in enumerate(parsed):
        if id(values) not in wanted:
            continue
        rows.append(PreviewRow(
            line=lines[index], campaign=slugs.get(values["campaign_id"], ""),
            received_at=values["received_at"].astimezone(timezone.utc),
            amount=Money(values["amount_minor"], values["currency"]),
            goal_amount=Money(values["goal_amount_minor"], values["goal_currency"]),
            status=values["status"], source=values["source"], donor_name=values["donor_name"],
            reference=values["external_id"], keyed=index not in keyless))
        if len(rows) == len(shown):
            break
    return rows


def _not_yet_in_ledger(session: Session, parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parsed rows whose uid and (source, external id) are in neither the ledger nor earlier rows."""
    uids = [values["uid"] for values in parsed]
    known_uids: set[str] = set()
    for first in range(0, len(uids), BATCH):
        known_uids.update(session.scalars(select(Donation.uid).where(Donation.uid.in_(uids[first:first + BATCH]))))
    externals = sorted({values["external_id"] for values in parsed if values["external_id"]})
    known_keys: set[tuple[str, str | None]] = set()
    for first in range(0, len(externals), BATCH):
        rows = session.execute(select(Donation.source, Donation.external_id).where(
            Donation.external_id.in_(externals[first:first + BATCH])))
        known_keys.update((source, external) for source, external in rows)
    new = []
    for values in parsed:
        key = (values["source"], values["external_id"]) if values["external_id"] else None
        if values["uid"] in known_uids or (key and key in known_keys):
            continue
        known_uids.add(values["uid"])
        if key:
            known_keys.add(key)
        new.append(values)
    return new


def _insert_all(session: Session, new: list[dict[str, Any]], actor: Actor) -> int:
    """Insert `new` in batches, audit each row, update the totals once; returns how many went in."""
    insert = upsert_for(session)
    table = Donation.__table__
    postgresql = session.get_bind().dialect.name == "postgresql"
    inserted: list[dict[str, Any]] = []
    for first in range(0, len(new), BATCH):
        batch = new[first:first + BATCH]
        # ON CONFLICT DO NOTHING: a concurrent import of the same file cannot add a row twice;
        # RETURNING names the rows this one added, and only those count.
        # On the Table, not the ORM entity: an ORM bulk INSERT … RETURNING asks for the rows back
        # in parameter order, which SQLite cannot promise with ON CONFLICT, so SQLAlchemy sent
        # one statement per row and spliced the results (quadratic in the batch; 70% of an
        # import's time). The Core statement goes out as one multi-row INSERT per batch.
        if postgresql:
            statement = insert(table).from_select(*unnest_rows(table, batch))
            rows = session.execute(statement.on_conflict_do_nothing().returning(table.c.id, table.c.uid)).all()
        else:
            rows = session.execute(insert(table).on_conflict_do_nothing().returning(table.c.id, table.c.uid),
                                   batch).all()
        added = {uid: row_id for row_id, uid in rows}
        for values in batch:
            if values["uid"] in added:
                inserted.append({**values, "id": added[values["uid"]]})
    count_many_in_totals(session, inserted)
    now = utcnow()
    events = [{"at": now, "user_id": actor.user_id, "actor": actor.name, "ip_address": actor.ip_address,
               "action": "donation.import", "entity": "donation", "entity_id": str(values["id"]), "before": None,
               "after": {"uid": values["uid"], "campaign_id": values["campaign_id"],
                         "amount_minor": values["amount_minor"], "currency": values["currency"],
                         "source": values["source"], "external_id": values["external_id"],
                         "status": values["status"]}} for values in inserted]
    audit_table: Any = AuditEvent.__table__
    for first in range(0, len(events), BATCH):
        if postgresql:
            session.execute(sa_insert(audit_table).from_select(*unnest_rows(audit_table, events[first:first + BATCH])))
        else:
            session.execute(sa_insert(AuditEvent), events[first:first + BATCH])
    session.flush()
    return len(inserted)


def unnest_rows(table: Any, rows: list[dict[str, Any]]) -> tuple[list[str], Any]:
    """PostgreSQL: `rows` as `SELECT * FROM unnest(<one array per column>)`, for INSERT … SELECT.

    A multi-row VALUES list has a placeholder per cell, and psycopg rewrites every one of them
    in Python for each statement (too long for its cache): 18,000 per thousand gifts, most of
    a PostgreSQL import's time. One array per column is 20 parameters whatever the batch.
    Columns the rows leave out get their scalar default, as an INSERT of the rows would.
    """
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    values = [[row[name] for row in rows] for name in names]
    for column in table.columns:
        if column.name not in rows[0] and column.default is not None and column.default.is_scalar:
            names.append(column.name)
            columns.append(column)
            values.append([column.default.arg] * len(rows))
    arrays = [sql_cast(bindparam(f"cells_{index}", value, type_=ARRAY(column.type)), ARRAY(column.type))
              for index, (column, value) in enumerate(zip(columns, values, strict=True))]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    return names, select(*[source.c[name] for name in names])


def _reason(exc: Exception) -> str:
    """What is wrong with an item of a backup, for a person."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, KeyError):
        return f"{exc.args[0]} is missing"
    return "a value has the wrong type (text, a number, a list…)"


#: Columns the export gained after content uids were first made: they count in a row's content
#: only when set, so a file from before them gets the same uids again and re-importing it adds nothing.
_LATER_COLUMNS = ("ref", "recurring")


def _set(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() not in _NO)


def content_uid(row: dict[str, Any], seen: dict[str, int]) -> str:
    """A stable uid for a row that has neither uid nor external id, so re-importing it adds nothing.

    Made from the row's content plus how many identical rows came before it in the same
    file, so two genuinely identical gifts in one file stay two donations.
    """
    content = json.dumps({key: str(row.get(key) or "") for key in DONATION_COLUMNS
                          if key not in ("uid", *_LATER_COLUMNS) or _set(row.get(key))}, sort_keys=True)
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
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise DomainError(f"not a {FORMAT} export (version {VERSION})")
    for part in ("campaigns", "exchange_rates", "payment_methods", "donations"):
        items = data.get(part, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise DomainError(f"{part} must be a list of objects")
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
                    display=item.get("display") or {}, translations=item.get("translations") or {},
                    milestones=[MilestoneInput(Money.parse(m["amount"], currency), m.get("label", ""),
                                               m.get("translations") or {})
                                for m in item.get("milestones", [])]), actor=actor)
        except (DomainError, KeyError, TypeError, AttributeError) as exc:
            report.errors.append((number, f"campaign: {_reason(exc)}"))
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
        except (DomainError, KeyError, TypeError, AttributeError) as exc:
            report.errors.append((number, f"exchange rate: {_reason(exc)}"))
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
        except (DomainError, KeyError, TypeError, AttributeError) as exc:
            report.errors.append((number, f"payment method: {_reason(exc)}"))
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


def _run(session: Session, text: str, actor: Actor, *, write: bool) -> ImportReport:
    try:
        return import_rows(session, read_csv_rows(io.StringIO(text, newline="")), actor=actor, write=write)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read: {exc}", field="file") from None
    except DomainError as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(exc.message, field="file") from None


def preview_import(session: Session, text: str, *, actor: Actor) -> ImportReport:
    """What importing `text` would do, found by reading only (no write lock is taken)."""
    return _run(session, text, actor, write=False)


def import_confirmed(session: Session, text: str, *, actor: Actor) -> ImportReport:
    """Import `text` (flushed, not committed); the caller commits only when the report is clean."""
    return _run(session, text, actor, write=True)


def sign_upload(key: bytes, user_id: int, text: str) -> str:
    """HMAC-SHA256 binding the previewed text to the user who previewed it."""
    return hmac.new(key, f"csv-import:{user_id}:".encode() + text.encode(), hashlib.sha256).hexdigest()


def check_upload(key: bytes, user_id: int, text: str, signature: str) -> None:
    """Refuse text that is not exactly what this user previewed."""
    # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    if not hmac.compare_digest(sign_upload(key, user_id, text).encode(), (signature or "").encode()):
        raise InvalidInput("the previewed file was changed on the way: upload it again", field="file")

