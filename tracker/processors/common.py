"""What every processor module shares: refusals, a verified delivery, outcomes, and recording a gift."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Actor
from ..config import Settings
from ..donations.ledger import Recorded, record_donation
from ..donations.rates import NoExchangeRate
from ..errors import DomainError
from ..models import REF_LENGTH, Campaign, Donation, InboundEvent
from ..money import Money, MoneyError, normalize_currency

#: Largest body any endpoint reads (Stripe's biggest events are well under 64 KiB).
MAX_BODY = 256 * 1024
#: Signed timestamps further than this from our clock are refused (Stripe, Standard Webhooks).
TOLERANCE_SECONDS = 5 * 60
_AMOUNT = re.compile(r"\d{1,16}(?:\.\d{1,18})?", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Refused(Exception):
    """A delivery we will not store: a bad signature (401), a malformed body (400), too large (413)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Unusable(Exception):
    """A verified event whose content cannot be used as it is: kept in the inbox as "failed"."""


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature checked out, with the processor's ids read from it."""

    event_id: str
    event_type: str
    payload: Any
    #: "current", "previous" (secret rotation) or "token" (Ko-fi).
    signature: str
    subject: str | None = None


@dataclass
class Outcome:
    """What processing an event did."""

    state: str
    reason: str = ""
    donation: Donation | None = None
    #: Seconds until the follow-up should try again (pending_fetch, needs_rate).
    retry_in: int | None = None


@dataclass(frozen=True)
class Gift:
    """A gift as a processor describes it, before it is matched to a campaign and recorded."""

    external_id: str
    amount: Money
    received_at: datetime
    campaign_slug: str
    status: str = "confirmed"
    donor_name: str | None = None
    message: str | None = None
    is_public: bool = False
    ref: str | None = None
    recurring: bool = False


@dataclass(frozen=True)
class Context:
    """What applying an event needs: the session, the settings, who acts, and when it is."""

    session: Session
    settings: Settings
    now: datetime
    #: Fetches a BTCPay invoice (tests and the inline attempt pass their own).
    fetch_invoice: Any = None


def actor_for(processor: str) -> Actor:
    """The audit log's name for changes a processor's webhook made."""
    return Actor(name=f"webhook:{processor}")


def parse_json(body: bytes) -> Any:
    """The body as JSON, or Refused(400) saying why not."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"the body is not JSON: {exc}") from exc


def text_of(value: Any, limit: int = 200) -> str | None:
    """A short piece of text from a payload, or None (wrong type, empty)."""
    if not isinstance(value, str):
        return None
    value = _CONTROL.sub(" ", value).strip()
    return value[:limit] or None


def clean_ref(value: Any) -> str | None:
    """The article a gift is attributed to, when it is a plausible slug or URL (≤ 200 characters)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > REF_LENGTH or _CONTROL.search(value):
        return None
    return value


def dig(payload: Any, *path: str) -> Any:
    """payload[path[0]][path[1]]…, or None when any step is missing or not an object."""
    for key in path:
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(key)
    return payload


def amount_from_minor(value: Any, currency: Any) -> Money:
    """Money from an integer of minor units (Stripe, GitHub); Unusable when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Unusable(f"the amount {value!r} is not a positive whole number of minor units")
    return Money(value, _currency(currency))


def amount_from_text(value: Any, currency: Any) -> Money:
    """Money from a decimal string in major units ("3.00": Ko-fi, BTCPay); Unusable when inexact."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value.strip()):
        raise Unusable(f"the amount {value!r} is not a plain decimal")
    try:
        money = Money.from_decimal(Decimal(value.strip()), _currency(currency))
    except (InvalidOperation, MoneyError) as exc:
        raise Unusable(f"the amount {value!r} cannot be used: {exc}") from exc
    if money.minor <= 0:
        raise Unusable("the amount is not more than zero")
    return money


def _currency(value: Any) -> str:
    if not isinstance(value, str):
        raise Unusable(f"the currency {value!r} is not a currency code")
    try:
        return normalize_currency(value.upper())
    except MoneyError as exc:
        raise Unusable(f"the currency {value!r} is not known: {exc}") from exc


def from_unix(value: Any, default: datetime) -> datetime:
    """An aware UTC time from a Unix timestamp, or `default`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2**33:
        return datetime.fromtimestamp(int(value), timezone.utc)
    return default


def from_iso(value: Any, default: datetime) -> datetime:
    """An aware UTC time from ISO 8601 text ("2022-08-21T13:04:30Z"), or `default`."""
    if not isinstance(value, str):
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return default
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def find_campaign(session: Session, slug: str) -> Campaign | str:
    """The campaign a gift counts towards, or the reason it cannot be used (unknown, archived)."""
    if not slug:
        return "no campaign: set metadata.campaign or the connection's default campaign"
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        return f"there is no campaign {slug!r}"
    if campaign.status == "archived":
        return f"the campaign {slug!r} is archived"
    return campaign


def find_gift(session: Session, source: str, external_id: str) -> Donation | None:
    return session.scalar(select(Donation).where(Donation.source == source, Donation.external_id == external_id))


def record_gift(ctx: Context, source: str, gift: Gift) -> Outcome:
    """Record `gift` through the ledger (idempotent on source and external id).

    A gift for an unknown or archived campaign, or in a currency without a rate, is not
    recorded: the event waits in the inbox ("needs_attention", "needs_rate").
    """
    campaign = find_campaign(ctx.session, gift.campaign_slug)
    if isinstance(campaign, str):
        return Outcome("needs_attention", campaign)
    try:
        # A savepoint: whatever fails inside leaves the inbox row, and nothing else, to be saved.
        with ctx.session.begin_nested():
            recorded: Recorded = record_donation(
                ctx.session, campaign, gift.amount, actor=actor_for(source), source=source,
                external_id=gift.external_id, status=gift.status, received_at=gift.received_at,
                donor_name=gift.donor_name, message=gift.message, is_public=gift.is_public, ref=gift.ref)
            if recorded.created:
                recorded.donation.recurring = gift.recurring
                ctx.session.flush()
    except NoExchangeRate as exc:
        return Outcome("needs_rate", exc.message, retry_in=3600)
    except DomainError as exc:
        return Outcome("failed", exc.message)
    if not recorded.created:
        return Outcome("processed", "the gift was already in the ledger", recorded.donation)
    return Outcome("processed", "recorded", recorded.donation)


def events_about(session: Session, processor: str, subject: str, states: tuple[str, ...]) -> list[InboundEvent]:
    """Stored events of `processor` about `subject` in one of `states`, oldest first."""
    return list(session.scalars(
        select(InboundEvent).where(InboundEvent.processor == processor, InboundEvent.subject == subject,
                                   InboundEvent.state.in_(states))
        .order_by(InboundEvent.received_at, InboundEvent.id)))
