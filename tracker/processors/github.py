"""GitHub Sponsors: the `X-Hub-Signature-256` check, sponsorships, and their monthly renewals.

Follows GitHub's "Validating webhook deliveries" (HMAC-SHA256 of the raw body, hex, prefixed
`sha256=`) and the `sponsorship` event (actions created, cancelled, tier_changed, …). GitHub sends
nothing when a monthly sponsorship renews, so `renewals_due` lists the months to record.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from ..config import ProcessorSettings
from ..models import InboundEvent
from .common import (
    Context,
    Delivery,
    Gift,
    Outcome,
    Refused,
    Unusable,
    amount_from_minor,
    dig,
    from_iso,
    parse_json,
    record_gift,
    text_of,
)
from .signing import hex_sha256_header, secrets_of

SOURCE = "github"


def verify(headers: Mapping[str, str], body: bytes, config: ProcessorSettings, now: datetime) -> Delivery:
    secrets = secrets_of(config)
    matched = hex_sha256_header("X-Hub-Signature-256", headers.get("X-Hub-Signature-256", ""), secrets, body,
                                "GitHub")
    delivery = text_of(headers.get("X-GitHub-Delivery"))
    kind = text_of(headers.get("X-GitHub-Event"), 60)
    if not delivery or not kind:
        raise Refused(400, "no X-GitHub-Delivery or X-GitHub-Event header")
    payload = parse_json(body)
    action = text_of(dig(payload, "action"), 39)
    return Delivery(delivery, f"{kind}.{action}" if action else kind, payload, matched,
                    text_of(dig(payload, "sponsorship", "node_id")))


def payload_of(body: bytes) -> Any:
    return parse_json(body)


def _month(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


@dataclass(frozen=True)
class Sponsorship:
    node_id: str
    started: datetime
    monthly: Any
    one_time: bool
    donor: str | None
    public: bool


def sponsorship_of(payload: Any, now: datetime) -> Sponsorship:
    """The sponsorship an event describes (its tier's monthly price, in US cents)."""
    sponsorship = dig(payload, "sponsorship")
    node_id = text_of(dig(sponsorship, "node_id"))
    if not node_id:
        raise Unusable("the event names no sponsorship")
    public = dig(sponsorship, "privacy_level") == "public"
    return Sponsorship(
        node_id=node_id, started=from_iso(dig(sponsorship, "created_at"), now),
        monthly=amount_from_minor(dig(sponsorship, "tier", "monthly_price_in_cents"), "USD"),
        one_time=dig(sponsorship, "tier", "is_one_time") is True,
        donor=text_of(dig(sponsorship, "sponsor", "login")) if public else None, public=public)


def gift_for(sponsorship: Sponsorship, month: datetime | None, campaign: str) -> Gift:
    """The gift of one month of a sponsorship (None: the first payment, or the one-time one)."""
    period = "once" if sponsorship.one_time else _month(month or sponsorship.started)
    return Gift(external_id=f"{sponsorship.node_id}:{period}", amount=sponsorship.monthly,
                received_at=month or sponsorship.started, campaign_slug=campaign, donor_name=sponsorship.donor,
                is_public=sponsorship.public, recurring=month is not None)


def apply(ctx: Context, event: InboundEvent, payload: Any, config: ProcessorSettings) -> Outcome:
    kind = event.event_type
    if kind == "sponsorship.created":
        return record_gift(ctx, SOURCE, gift_for(sponsorship_of(payload, ctx.now), None, config.default_campaign))
    if kind == "sponsorship.cancelled":
        return Outcome("processed", "the sponsorship ended: no more renewals are recorded")
    if kind == "sponsorship.tier_changed":
        sponsorship_of(payload, ctx.now)
        return Outcome("processed", "renewals from now on use the new tier")
    return Outcome("ignored", f"{kind} does not change the ledger")


def months_after(start: datetime, now: datetime) -> list[datetime]:
    """The monthly anniversaries of `start` after it, up to `now` (a 31st renews on the month's last day)."""
    found: list[datetime] = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        when = start.replace(year=year, month=month, day=day, tzinfo=start.tzinfo or timezone.utc)
        if when > now:
            return found
        found.append(when)
