"""Export: a complete JSON backup or the donations as CSV (formula-safe), streamed from the ledger."""
from __future__ import annotations

import csv
import io
import json
import queue
import re
import threading
from datetime import datetime, timezone
from decimal import Decimal
from json.encoder import encode_basestring
from typing import IO, Any, Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Campaign, Donation, ExchangeRate, PaymentMethod, utcnow
from ..money import Money, exponent

FORMAT = "reader-support-tracker"


VERSION = 1


DONATION_COLUMNS = (
    "uid", "campaign", "amount", "currency", "goal_amount", "goal_currency", "rate", "rate_source",
    "rate_as_of", "source", "external_id", "status", "donor_name", "message", "is_public", "reason",
    "received_at", "recorded_at", "ref", "recurring",
)


#: Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


#: First characters that need a look: a formula start, or an apostrophe `restore_cell` would take off.
_RISKY_FIRST = frozenset("".join(_FORMULA_START) + "'")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


#: Rows fetched from the database at a time (a million-gift export never holds more).
BATCH = 5000


def _amount(minor: int, places: int) -> str:
    """`Money.plain` without building a Money: the export formats millions of amounts.

    Digits placed by slicing the integer's text (exact, and half the cost of divmod and a
    nested format spec): 123456 with 2 places is "1234.56", 5 is "0.05", -550 is "-5.50".
    """
    if minor < 0:
        return "-" + _amount(-minor, places)
    if not places:
        return str(minor)
    digits = str(minor).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


_UTC = timezone.utc


def _iso_raw(value: str | datetime | None) -> str | None:
    """A stored timestamp as `datetime.isoformat()` of its aware UTC value.

    SQLite hands back SQLAlchemy's storage text ("2026-11-01 00:00:00.000000", UTC without an
    offset), which is rewritten with two replaces (the form has one space and one dot); any
    other form is parsed, no offset meaning UTC; an aware datetime is formatted too.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return value.replace(" ", "T").replace(".000000", "") + "+00:00"
        value = datetime.fromisoformat(value)
    return (value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)).isoformat()


def _as_is(value: str | None) -> str | None:
    return value


def _iso_text(column: Any, dialect: str) -> Any:
    """`column` as the export reads it: on PostgreSQL already `isoformat()` of its UTC value.

    PostgreSQL's server formats the timestamptz in UTC (on its own core, while this process
    formats the batch before; psycopg's aware datetimes cost more than the rest of the row).
    SQLite gets the stored text, which `_iso_raw` rewrites: done in SQL there, with
    substr and CASE, it cost more than in Python.
    """
    if dialect != "postgresql":
        return column
    text = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')
    return func.replace(text, ".000000", "") + "+00:00"


def _rate_raw(value: str | None) -> str | None:
    """DecimalText's stored text is already `format(rate.normalize(), "f")`; anything else is normalised."""
    if value is None or value.replace(".", "", 1).lstrip("-").isdigit():
        return value
    return format(Decimal(value), "f")


def donation_row_batches(session: Session, campaign_id: int | None = None) -> Iterator[list[tuple[Any, ...]]]:
    """Every donation in ledger order, a batch (list) of tuples of DONATION_COLUMNS' values at a time.

    Exact and plain: the driver's own values in batches, not ORM objects and not SQLAlchemy's typed rows: the
    export is the one place that reads every row of the ledger, and building a Decimal and two
    datetimes per row only to format them back cost more than half its time. The times come
    as text from the database (`_iso_text`); `_amount`, `_iso_raw` and `_rate_raw` give exactly
    what `Money.plain()`, `isoformat()` and `format(rate, "f")` of the typed values give
    (tests/donations/test_export_rows.py compares both on SQLite and PostgreSQL). On PostgreSQL the rows
    come from a server-side cursor, so memory stays flat whatever the size of the ledger.
    """
    slugs = {row_id: slug for row_id, slug in session.execute(select(Campaign.id, Campaign.slug))}
    places: dict[str, int] = {}
    connection = session.connection()
    dialect = connection.dialect.name
    rate_as_of_, received_at_, recorded_at_ = (
        _iso_text(column, dialect) for column in (Donation.rate_as_of, Donation.received_at, Donation.recorded_at))
    query = select(
        Donation.uid, Donation.campaign_id, Donation.amount_minor, Donation.currency, Donation.goal_amount_minor,
        Donation.goal_currency, Donation.rate, Donation.rate_source, rate_as_of_, Donation.source,
        Donation.external_id, Donation.status, Donation.donor_name, Donation.message, Donation.is_public,
        Donation.reason, received_at_, recorded_at_, Donation.ref, Donation.recurring).order_by(Donation.id)
    if campaign_id is not None:
        query = query.where(Donation.campaign_id == int(campaign_id))
    # literal_binds: the parameters are an integer id and the fixed texts of `_iso_text`, so
    # the statement can go to the driver as is.
    statement = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    batches: Iterator[Any]
    if dialect == "postgresql":
        result = connection.execution_options(yield_per=BATCH).exec_driver_sql(statement)
        # Through the result, not its DBAPI cursor: with a server-side cursor SQLAlchemy has
        # already buffered the first rows.
        batches = _fetched_ahead(result.partitions(BATCH))
    else:
        # SQLite has no server-side cursor: the DBAPI cursor's own fetchmany, without a
        # SQLAlchemy Row per row (a third of the reading).
        result = connection.exec_driver_sql(statement)
        batches = iter(lambda: result.cursor.fetchmany(BATCH), [])
    iso = _as_is if dialect == "postgresql" else _iso_raw
    rate_text, amount = _rate_raw, _amount
    try:
        for batch in batches:
            for currency, goal_currency in {(row[3], row[5]) for row in batch}:
                for code in (currency, goal_currency):
                    if code not in places:
                        places[code] = exponent(code)
            yield [(uid, slugs[campaign], (formatted := amount(minor, places[currency])), currency,
                    formatted if goal == minor and goal_currency == currency
                    else amount(goal, places[goal_currency]), goal_currency, rate_text(rate), rate_source,
                    iso(rate_as_of), source, external_id, status, donor_name, message, bool(is_public), reason,
                    iso(received_at), iso(recorded_at), ref, bool(recurring))
                   for (uid, campaign, minor, currency, goal, goal_currency, rate, rate_source, rate_as_of, source,
                        external_id, status, donor_name, message, is_public, reason, received_at, recorded_at, ref,
                        recurring)
                   in batch]
    finally:
        result.close()


def _fetched_ahead(batches: Iterator[Any], ahead: int = 2) -> Iterator[Any]:
    """`batches`, with the next ones fetched by a thread while the caller formats this one.

    psycopg lets go of the GIL while it waits for the server's next FETCH, which was a third
    of a PostgreSQL export's time; at most `ahead` batches wait in memory. The connection is
    used by that thread alone until it has finished (joined below, before the result closes).
    """
    done = object()
    waiting: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        waiting.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            waiting.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            waiting.put(exc)

    thread = threading.Thread(target=fetch, name="export-fetch", daemon=True)
    thread.start()
    try:
        while (item := waiting.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                waiting.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()


def iter_donation_rows(session: Session, campaign_id: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Every donation in ledger order as a tuple of DONATION_COLUMNS' values (see donation_row_batches)."""
    for batch in donation_row_batches(session, campaign_id):
        yield from batch


def iter_donations(session: Session, campaign_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every donation in ledger order as plain, exact data (money as decimal strings), streamed."""
    for row in iter_donation_rows(session, campaign_id):
        yield dict(zip(DONATION_COLUMNS, row, strict=True))


def _json_records(template: str, batch: list[tuple[Any, ...]]) -> list[str]:
    """A batch of donation rows as JSON objects, each value through the json module's string encoder.

    Written out per column rather than through a helper called per value: these are the
    export's innermost 20 million calls at a million gifts. The columns that may be empty
    (NULL in the schema) are the ones tested for None; the two flags are booleans.
    """
    e = encode_basestring
    return [template % (
        e(uid), e(campaign), e(amount), e(currency), e(goal), e(goal_currency),
        "null" if rate is None else e(rate), "null" if rate_source is None else e(rate_source),
        "null" if rate_as_of is None else e(rate_as_of), e(source),
        "null" if external_id is None else e(external_id), e(status),
        "null" if donor_name is None else e(donor_name), "null" if message is None else e(message),
        "true" if is_public else "false", e(reason), e(received_at), e(recorded_at),
        "null" if ref is None else e(ref), "true" if recurring else "false")
        for (uid, campaign, amount, currency, goal, goal_currency, rate, rate_source, rate_as_of, source,
             external_id, status, donor_name, message, is_public, reason, received_at, recorded_at, ref,
             recurring) in batch]


def export_json(session: Session, out: IO[str], progress: Callable[[int], None] | None = None) -> int:
    """Write a complete backup; returns the number of donations written."""
    campaigns = [{
        "slug": c.slug, "title": c.title, "description": c.description, "currency": c.currency,
        "target": Money(c.target_minor, c.currency).plain(), "period": c.period, "timezone": c.timezone,
        "starts_at": _iso(c.starts_at), "ends_at": _iso(c.ends_at), "status": c.status,
        "display": c.display, "translations": c.translations or {},
        "milestones": [{"amount": Money(m.amount_minor, c.currency).plain(), "label": m.label,
                        "translations": m.translations or {}} for m in c.milestones],
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
    # Each record through a template of its keys, each value through the json module's own
    # string encoder: the same text as json.dumps of the record (tests/donations/
    # test_export_rows.py), four times faster than building and encoding a dict per gift.
    template = "{" + ", ".join(f"{encode_basestring(name)}: %s" for name in DONATION_COLUMNS) + "}"
    for batch in donation_row_batches(session):
        out.write(("\n  " if count == 0 else ",\n  ")
                  + ",\n  ".join(_json_records(template, batch)))
        count += len(batch)
        if progress:
            progress(len(batch))
    out.write("\n ]\n}\n")
    return count


#: The cells that may be empty (None) or hold text from outside; the others always hold text.
_MAYBE_EMPTY_CELLS = tuple(DONATION_COLUMNS.index(name) for name in (
    "uid", "campaign", "currency", "goal_currency", "rate", "rate_source", "rate_as_of", "source", "external_id",
    "status", "donor_name", "message", "reason", "ref"))


def neutralise_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like text gets a leading apostrophe.

    A leading apostrophe is added to text that starts like a formula and to text that already
    starts with one, so `restore_cell` can always take exactly one off. Plain numbers such as
    "-5.00" are left alone: they cannot run as formulas.
    """
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    text = str(value)
    if text and text[0] in _RISKY_FIRST and not _PLAIN_NUMBER.fullmatch(text):
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
    yield buffer.getvalue()
    # The writer for lines that need quoting. Its "\r\n" terminator (taken off again) is what
    # makes it quote a cell holding a lone "\r" too: with "\n" alone the csv module writes
    # such a cell bare, and every CSV reader then splits the row there.
    quoting = csv.writer(buffer, lineterminator="\r\n")
    risky, maybe_empty = _RISKY_FIRST, _MAYBE_EMPTY_CELLS
    public, recurring = DONATION_COLUMNS.index("is_public"), DONATION_COLUMNS.index("recurring")
    separators = len(DONATION_COLUMNS) - 1
    for batch in donation_row_batches(session, campaign_id):
        lines = []
        for row in batch:
            cells = list(row)
            cells[public] = "true" if cells[public] else "false"
            cells[recurring] = "true" if cells[recurring] else "false"
            for index in maybe_empty:
                text = cells[index]
                if not text:
                    cells[index] = ""
                elif text[0] in risky:  # neutralise_cell's rule, called only where it can apply
                    cells[index] = neutralise_cell(text)
            line = ",".join(cells)
            # The csv module quotes a cell only for a comma, a quote or a line break in it. A
            # line without any is written as joined, which is the same text at a fraction of
            # writerow's cost (the export's largest); any other line goes through the writer.
            if line.count(",") == separators and '"' not in line and "\n" not in line and "\r" not in line:
                lines.append(line)
            else:
                buffer.seek(0)
                buffer.truncate()
                quoting.writerow(cells)
                lines.append(buffer.getvalue()[:-2])
        lines.append("")
        yield "\n".join(lines)
        if progress:
            progress(len(batch))


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
