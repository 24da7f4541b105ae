"""Processors' own CSV exports, recognised by their header row and read as the tracker's import rows.

Each export keeps its own transaction id as the gift's external id, under the same source as
that processor's webhook, so a payment both exported and sent by webhook is one donation
(`(source, external_id)` is unique in the ledger). Recognised: Stripe's payments export,
PayPal's activity download (English), Open Collective's transactions. Any other file (Ko-fi,
GiveWP, a bank) is read with a column map (`--map COLUMN=FIELD`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable

from ..chains.receiving import clean_ref
from ..donations.export import DONATION_COLUMNS
from ..errors import DomainError
from ..models import DONATION_SOURCES

#: What a column map may name: the tracker's own meaning of a column.
MAP_FIELDS = ("id", "amount", "currency", "date", "name", "message", "status", "campaign", "ref")
#: Statuses of mapped files that mean a gift did not (or no longer) count.
_REFUNDED = {"refunded", "reversed", "refund", "chargeback"}
_NOT_PAID = {"failed", "pending", "canceled", "cancelled", "abandoned", "denied", "expired", "incomplete",
             "processing", "revoked", "declined", "voided"}
#: Time zone abbreviations PayPal's activity download writes in its TimeZone column.
_ZONES = {"UTC": 0, "GMT": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5,
          "EDT": -4, "CET": 1, "CEST": 2, "BST": 1, "EET": 2, "EEST": 3, "AEST": 10, "AEDT": 11, "JST": 9}
_PAYPAL_GROSS = re.compile(r"-?\d{1,3}(?:,\d{3})*(?:\.\d+)?|-?\d+(?:\.\d+)?", re.ASCII)


@dataclass
class Translated:
    """The rows of an export in the tracker's import shape, with what was left out and why."""

    format: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: (line, why) of rows that are not gifts (fees, payouts, failed payments).
    skipped: list[tuple[int, str]] = field(default_factory=list)


def sniff_delimiter(text: str) -> str:
    """"," or ";" (spreadsheets in many European locales write semicolons), from the header line."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_table(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, rows) of a CSV in either delimiter; DomainError in one line when it cannot be read."""
    text = text.lstrip("\ufeff")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        header = [name.strip() for name in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)})
                for row in reader]
    except csv.Error as exc:
        raise DomainError(f"the CSV cannot be read: {exc}") from None
    return header, rows


def parse_map(pairs: Iterable[str]) -> dict[str, str]:
    """`COLUMN=FIELD` pairs as {field: column}; DomainError naming a malformed pair or unknown field."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if not pair.strip():
            continue
        column, sep, name = pair.rpartition("=")
        name = name.strip().lower()
        if not sep or not column.strip():
            raise DomainError(f"--map {pair!r}: write COLUMN=FIELD, e.g. --map \"Transaction Id=id\"")
        if name not in MAP_FIELDS:
            raise DomainError(f"--map {pair!r}: {name!r} is not one of {', '.join(MAP_FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _iso(text: str) -> str:
    """An ISO 8601 time ("2024-01-15T10:00:00.000Z", "2024-01-15 10:00"), UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"{text!r} is not a date and time such as 2024-01-15 10:00:00") from None
    return _utc(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


def _gift(line: int, *, campaign: str, amount: str, currency: str, when: str, source: str, external_id: str,
          status: str = "confirmed", name: str = "", message: str = "", reason: str = "",
          ref: str = "") -> tuple[int, dict[str, str]]:
    return line, {"campaign": campaign, "amount": amount, "currency": currency.upper(), "received_at": when,
                  "source": source, "external_id": external_id, "status": status, "donor_name": name,
                  "message": message, "is_public": "", "reason": reason, "ref": ref}


def _ref(text: str | None) -> str:
    """An article reference as the webhooks keep it (clean_ref), so a gift from an export and
    one from a webhook count for the same article in the by-article report."""
    return clean_ref(text) or ""


def _kept(gross: Decimal, refunded: Decimal) -> tuple[str, str, str]:
    """(amount, status, reason) of a gift after refunds, as the tracker keeps it (the ledger never goes negative)."""
    if refunded <= 0:
        return format(gross, "f"), "confirmed", ""
    if refunded >= gross:
        return format(gross, "f"), "refunded", "refunded (processor export)"
    return format(gross - refunded, "f"), "confirmed", f"partly refunded: {refunded} of {gross} (processor export)"


def _decimal(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "")) if _PAYPAL_GROSS.fullmatch(text) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise DomainError(f"{column} {text!r} is not an amount such as 1,234.56")
    return value


# --- Stripe: Dashboard → Payments → Export ("unified payments") --------------------------------

def _stripe(header: list[str], rows: list[tuple[int, dict[str, str]]], campaign: str) -> Translated:
    """Stripe's payments export: major units, `Amount Refunded` cumulative, metadata as `<key> (metadata)`."""
    out = Translated("Stripe payments export")
    created = "Created date (UTC)" if "Created date (UTC)" in header else "Created (UTC)"
    for line, row in rows:
        try:
            status = row.get("Status", "").lower()
            if status and status not in ("paid", "succeeded", "refunded", "partially refunded"):
                out.skipped.append((line, f"status {row.get('Status')}"))
                continue
            gross = _decimal(row.get("Amount", ""), "Amount")
            refunded = _decimal(row.get("Amount Refunded") or "0", "Amount Refunded")
            amount, state, reason = _kept(gross, refunded)
            slug = row.get("campaign (metadata)") or campaign
            # The webhook keys a Checkout payment by its payment intent: the same key here.
            key = row.get("PaymentIntent ID") or row.get("id", "")
            out.rows.append(_gift(line, campaign=slug, amount=amount, currency=row.get("Currency", ""),
                                  when=_iso(row.get(created, "")), source="stripe", external_id=key, status=state,
                                  name=row.get("Customer Description") or "", reason=reason,
                                  ref=_ref(row.get("ref (metadata)"))))
        except DomainError as exc:
            out.errors.append((line, exc.message))
    return out


# --- PayPal: Activity → Download (CSV, English) -----------------------------------------------------

def _paypal_time(row: dict[str, str]) -> str:
    zone = row.get("TimeZone", "").strip().upper()
    if zone not in _ZONES:
        raise DomainError(f"TimeZone {row.get('TimeZone')!r} is not one the tracker knows ({', '.join(_ZONES)})")
    try:
        local = datetime.strptime(f"{row.get('Date', '')} {row.get('Time', '')}".strip(), "%m/%d/%Y %H:%M:%S")
    except ValueError:
        raise DomainError(f"Date and Time {row.get('Date')!r} {row.get('Time')!r} are not MM/DD/YYYY HH:MM:SS "
                          "(the English activity download)") from None
    return _utc(local.replace(tzinfo=timezone(timedelta(hours=_ZONES[zone]))))


def _paypal(header: list[str], rows: list[tuple[int, dict[str, str]]], campaign: str) -> Translated:
    """PayPal's activity download: money received counts (Gross: the fee is PayPal's, not the donor's gift);
    a refund row (negative Gross, `Reference Txn ID` naming the payment) lowers or refunds that payment."""
    out = Translated("PayPal activity download")
    refunds: dict[str, Decimal] = {}
    gifts: list[tuple[int, dict[str, str], Decimal]] = []
    for line, row in rows:
        try:
            kind = row.get("Type", "")
            gross = _decimal(row.get("Gross", ""), "Gross")
            if row.get("Status", "").lower() not in ("completed", ""):
                out.skipped.append((line, f"status {row.get('Status')}"))
            elif gross < 0 and "refund" in kind.lower() and row.get("Reference Txn ID"):
                refunds[row["Reference Txn ID"]] = refunds.get(row["Reference Txn ID"], Decimal(0)) - gross
            elif gross > 0 and not any(word in kind.lower() for word in ("conversion", "transfer", "withdrawal",
                                                                          "hold", "deposit", "reversal")):
                gifts.append((line, row, gross))
            else:
                out.skipped.append((line, f"{kind or 'a row'} is not a gift"))
        except DomainError as exc:
            out.errors.append((line, exc.message))
    known = {row.get("Transaction ID", "") for _line, row, _gross in gifts}
    for reference in sorted(set(refunds) - known):
        out.errors.append((0, f"a refund of {reference}, which is not in this file: refund that donation in the "
                              "admin, or export a period that includes the payment"))
    for line, row, gross in gifts:
        try:
            amount, state, reason = _kept(gross, refunds.get(row.get("Transaction ID", ""), Decimal(0)))
            out.rows.append(_gift(line, campaign=campaign, amount=amount, currency=row.get("Currency", ""),
                                  when=_paypal_time(row), source="paypal", external_id=row.get("Transaction ID", ""),
                                  status=state, name=row.get("Name", ""), message=row.get("Note", ""),
                                  reason=reason))
        except DomainError as exc:
            out.errors.append((line, exc.message))
    return out


# --- Open Collective: Transactions → Export CSV ------------------------------------------------------

def _opencollective(header: list[str], rows: list[tuple[int, dict[str, str]]], campaign: str) -> Translated:
    """Open Collective's transactions: CREDITs of kind CONTRIBUTION or ADDED_FUNDS; `isRefunded` takes one back."""
    out = Translated("Open Collective transactions")
    for line, row in rows:
        try:
            if row.get("type") != "CREDIT" or row.get("kind") not in ("CONTRIBUTION", "ADDED_FUNDS") \
                    or row.get("isRefund", "").lower() == "true":
                out.skipped.append((line, f"{row.get('type')} {row.get('kind')} is not a contribution"))
                continue
            refunded = row.get("isRefunded", "").lower() == "true"
            out.rows.append(_gift(line, campaign=campaign, amount=row.get("amount", ""),
                                  currency=row.get("currency", ""), when=_iso(row.get("datetime", "")),
                                  source="opencollective", external_id=row.get("id") or row.get("shortId", ""),
                                  status="refunded" if refunded else "confirmed",
                                  name=row.get("oppositeAccountName", ""), message=row.get("description", ""),
                                  reason="refunded (processor export)" if refunded else ""))
        except DomainError as exc:
            out.errors.append((line, exc.message))
    return out


@dataclass(frozen=True)
class ExportFormat:
    name: str
    #: Columns whose presence (all of them) recognises the format; alternatives separated by "|".
    columns: tuple[str, ...]
    read: Callable[[list[str], list[tuple[int, dict[str, str]]], str], Translated]
    #: The file names its campaign itself (a metadata column), so --campaign may be left out.
    names_campaign: str | None = None

    def matches(self, header: list[str]) -> bool:
        return all(any(option in header for option in column.split("|")) for column in self.columns)


FORMATS = (
    ExportFormat("Stripe payments export", ("id", "Created date (UTC)|Created (UTC)", "Amount", "Currency"),
                 _stripe, names_campaign="campaign (metadata)"),
    ExportFormat("PayPal activity download", ("Date", "Time", "TimeZone", "Type", "Status", "Currency", "Gross",
                                              "Transaction ID"), _paypal),
    ExportFormat("Open Collective transactions", ("datetime", "type", "kind", "amount", "currency", "id|shortId"),
                 _opencollective),
)
#: The tracker's own donations CSV.
OWN_COLUMNS = ("campaign", "amount", "currency", "received_at")


def recognise(header: list[str]) -> ExportFormat | None:
    return next((fmt for fmt in FORMATS if fmt.matches(header)), None)


def _mapped(header: list[str], rows: list[tuple[int, dict[str, str]]], mapping: dict[str, str], campaign: str,
            source: str) -> Translated:
    missing = [column for column in mapping.values() if column not in header]
    if missing:
        raise DomainError(f"--map names column(s) the file does not have: {', '.join(missing)}; "
                          f"it has: {', '.join(header)}")
    needed = [name for name in ("id", "amount", "currency", "date") if name not in mapping]
    if needed:
        raise DomainError(f"--map must name the columns for: {', '.join(needed)}")
    out = Translated(f"mapped columns ({source})")
    for line, row in rows:
        try:
            status = row.get(mapping.get("status", ""), "").lower()
            if status in _NOT_PAID:
                out.skipped.append((line, f"status {status}"))
                continue
            refunded = status in _REFUNDED
            out.rows.append(_gift(
                line, campaign=row.get(mapping.get("campaign", ""), "") or campaign,
                amount=row.get(mapping["amount"], ""), currency=row.get(mapping["currency"], ""),
                when=_iso(row.get(mapping["date"], "")), source=source, external_id=row.get(mapping["id"], ""),
                status="refunded" if refunded else "confirmed", name=row.get(mapping.get("name", ""), ""),
                message=row.get(mapping.get("message", ""), ""), reason="refunded (export)" if refunded else "",
                ref=_ref(row.get(mapping.get("ref", "")))))
        except DomainError as exc:
            out.errors.append((line, exc.message))
    return out


def translate_export(text: str, *, campaign: str = "", mapping: dict[str, str] | None = None,
                     source: str = "import") -> Translated | None:
    """The rows of a processor's export, or None when `text` is the tracker's own donations CSV.

    A file that matches no known format and has no column map is refused with the columns it
    has, the columns each format needs, and how to map them.
    """
    header, rows = read_table(text)
    if not header:
        raise DomainError("the file is empty: no header row")
    if mapping:
        if source not in DONATION_SOURCES:
            raise DomainError(f"--source {source!r} is not one of {', '.join(DONATION_SOURCES)}")
        return _mapped(header, rows, mapping, campaign, source)
    if all(column in header for column in OWN_COLUMNS):
        if sniff_delimiter(text.lstrip("\ufeff")) == ",":
            return None  # the tracker's own CSV: imported as it always was
        own = Translated("the tracker's own CSV, separated by semicolons")
        own.rows = [(line, {key: value[1:] if value.startswith("'") else value for key, value in row.items()})
                    for line, row in rows]
        return own
    fmt = recognise(header)
    if fmt is None:
        expected = "; ".join(f"{f.name}: {', '.join(c.replace('|', ' or ') for c in f.columns)}" for f in FORMATS)
        lacking = ", ".join(column for column in OWN_COLUMNS if column not in header)
        raise DomainError(
            f"the CSV lacks the column(s) {lacking} of the tracker's own format and matches no processor's export. "
            f"Columns found: {', '.join(header)}. Columns expected: {expected}. Or name its columns with "
            f"--map COLUMN=FIELD (fields: {', '.join(MAP_FIELDS)}) and --source")
    if not campaign and not (fmt.names_campaign and fmt.names_campaign in header):
        raise DomainError(f"a {fmt.name} names no campaign: give one with --campaign SLUG")
    return fmt.read(header, rows, campaign)


def as_import_csv(translated: Translated) -> str:
    """The translated rows as the tracker's own donations CSV (what the admin's preview signs and imports)."""
    out = io.StringIO(newline="")
    columns = [c for c in DONATION_COLUMNS if c not in ("uid", "goal_amount", "goal_currency", "rate", "rate_source",
                                                        "rate_as_of", "recorded_at")]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for _line, row in translated.rows:
        # The import strips one leading apostrophe (the export's guard against formulas): keep a real one.
        writer.writerow({key: "'" + value if value.startswith("'") else value for key, value in row.items()})
    return out.getvalue()
