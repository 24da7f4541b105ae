"""Stripe: the `Stripe-Signature` check and which events count.

Follows Stripe's "Check the webhook signatures" guide: the header is `t=<unix time>,v1=<hex>`
(several `v1` while a secret is rolled over), the signature is HMAC-SHA256 with the endpoint's
secret over `"{t}.{raw body}"`, and timestamps older than the tolerance (5 minutes) are refused.
"""

from __future__ import annotations

import binascii
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.orm import Session

from ..config import ProcessorSettings
from ..db import lock
from ..donations.ledger import correct_donation, refund_donation
from ..errors import DomainError
from ..models import Campaign, Donation, InboundEvent
from ..money import Money
from .common import (
    TOLERANCE_SECONDS,
    Context,
    Delivery,
    Gift,
    Outcome,
    Refused,
    Unusable,
    actor_for,
    amount_from_minor,
    clean_ref,
    dig,
    events_about,
    from_unix,
    parse_json,
    record_gift,
    text_of,
)
from .signing import hmac_sha256, matching_secret, secrets_of

SOURCE = "stripe"


def verify(headers: Mapping[str, str], body: bytes, config: ProcessorSettings, now: datetime) -> Delivery:
    """The delivery, if `Stripe-Signature` matches the raw body with one of the secrets."""
    secrets = secrets_of(config)
    header = headers.get("Stripe-Signature", "")
    if not header:
        raise Refused(400, "no Stripe-Signature header")
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) < 12:
            timestamp = int(value)
        elif key == "v1":
            try:
                signatures.append(binascii.unhexlify(value))
            except (binascii.Error, ValueError):
                continue
    if timestamp is None or not signatures:
        raise Refused(400, "the Stripe-Signature header has no timestamp or no v1 signature")
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise Refused(401, "the Stripe-Signature timestamp is more than 5 minutes away from now (a replay?)")
    signed = f"{timestamp}.".encode() + body
    matched = matching_secret(((name, hmac_sha256(secret.encode(), signed)) for name, secret in secrets), signatures)
    if matched is None:
        raise Refused(401, "the Stripe signature does not match (wrong endpoint secret, or the body was changed)")
    payload = parse_json(body)
    event_id, event_type = text_of(dig(payload, "id")), text_of(dig(payload, "type"), 100)
    if not event_id or not event_type:
        raise Refused(400, "the body is not a Stripe event (no id or type)")
    return Delivery(event_id, event_type, payload, matched, subject_of(event_type, dig(payload, "data", "object")))


def payload_of(body: bytes) -> Any:
    return parse_json(body)


def subject_of(event_type: str, obj: Any) -> str | None:
    """The payment an event is about (its payment intent, else the charge), so refunds find their gift."""
    if not isinstance(obj, Mapping):
        return None
    for key in ("payment_intent", "charge"):
        value = obj.get(key)
        if isinstance(value, Mapping):
            value = value.get("id")
        if text_of(value):
            return text_of(value)
    return text_of(obj.get("id"))


def _campaign_slug(obj: Mapping[str, Any], config: ProcessorSettings) -> str:
    for path in (("metadata",), ("subscription_details", "metadata"), ("parent", "subscription_details", "metadata")):
        slug = text_of(dig(obj, *path, "campaign"))
        if slug:
            return slug
    return config.default_campaign


def apply(ctx: Context, event: InboundEvent, payload: Any, config: ProcessorSettings) -> Outcome:
    """Map one Stripe event onto the ledger (see docs/processors.md for the table)."""
    obj = dig(payload, "data", "object")
    if not isinstance(obj, Mapping):
        raise Unusable("the event has no data.object")
    kind = event.event_type
    received = from_unix(payload.get("created"), ctx.now)
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("mode") == "subscription":
            return Outcome("ignored", "a subscription's first payment is counted by its invoice.paid event")
        if obj.get("payment_status") != "paid":
            return Outcome("ignored", "not paid yet: checkout.session.async_payment_succeeded will follow")
        # Keyed by the payment intent (the session's id when it has none): Stripe's payments export
        # names payments by it, so a payment both exported and sent here is one gift.
        return record_gift(ctx, SOURCE, Gift(
            external_id=text_of(obj.get("payment_intent")) or _id(obj),
            amount=amount_from_minor(obj.get("amount_total"), obj.get("currency")),
            received_at=received, campaign_slug=_campaign_slug(obj, config),
            donor_name=text_of(dig(obj, "customer_details", "name")),
            ref=clean_ref(obj.get("client_reference_id")) or clean_ref(dig(obj, "metadata", "ref"))))
    if kind == "invoice.paid":
        if obj.get("amount_paid") == 0:
            return Outcome("ignored", "nothing was paid on this invoice")
        return record_gift(ctx, SOURCE, Gift(
            external_id=_id(obj), amount=amount_from_minor(obj.get("amount_paid"), obj.get("currency")),
            received_at=received, campaign_slug=_campaign_slug(obj, config),
            donor_name=text_of(obj.get("customer_name")), ref=clean_ref(dig(obj, "metadata", "ref")),
            recurring=obj.get("billing_reason") == "subscription_cycle"))
    if kind == "charge.refunded":
        donation = _paid_gift(ctx.session, event)
        if donation is None:
            return Outcome("waiting", "the payment this refund belongs to has not arrived yet")
        return _take_back(ctx, donation, obj)
    if kind == "charge.dispute.closed":
        if obj.get("status") != "lost":
            return Outcome("ignored", f"the dispute closed as {text_of(obj.get('status'))!s}: the gift stays")
        donation = _paid_gift(ctx.session, event)
        if donation is None:
            return Outcome("waiting", "the payment this dispute belongs to has not arrived yet")
        return _refund(ctx, donation, "Stripe: dispute lost")
    return Outcome("ignored", f"{kind} does not change the ledger")


def _id(obj: Mapping[str, Any]) -> str:
    value = text_of(obj.get("id"))
    if not value:
        raise Unusable("the object has no id")
    return value


def _paid_gift(session: Session, event: InboundEvent) -> Donation | None:
    """The gift recorded for the payment a refund or dispute is about, if it arrived."""
    if not event.subject:
        return None
    for earlier in events_about(session, SOURCE, event.subject, ("processed",)):
        if earlier.donation_id is not None and earlier.id != event.id:
            return session.get(Donation, earlier.donation_id)
    return None


def _refund(ctx: Context, donation: Donation, reason: str) -> Outcome:
    donation = lock(ctx.session, donation)
    if donation.status == "refunded":
        return Outcome("processed", "the gift was already refunded", donation)
    try:
        with ctx.session.begin_nested():
            refund_donation(ctx.session, donation, actor=actor_for(SOURCE), reason=reason)
    except DomainError as exc:
        return Outcome("needs_attention", exc.message, donation)
    return Outcome("processed", reason, donation)


def _take_back(ctx: Context, donation: Donation, charge: Mapping[str, Any]) -> Outcome:
    """Apply a charge's refunds: `amount_refunded` is cumulative, so the gift keeps the rest."""
    original = amount_from_minor(charge.get("amount"), charge.get("currency"))
    refunded = charge.get("amount_refunded")
    if isinstance(refunded, bool) or not isinstance(refunded, int) or refunded < 0:
        raise Unusable("the charge has no amount_refunded")
    if refunded >= original.minor or charge.get("refunded") is True:
        return _refund(ctx, donation, "Stripe: refunded")
    if refunded == 0:
        return Outcome("ignored", "nothing was refunded", donation)
    donation = lock(ctx.session, donation)
    if donation.status == "refunded":
        return Outcome("processed", "the gift was already refunded", donation)
    if donation.currency != original.currency:
        return Outcome("needs_attention", f"the refund is in {original.currency}, the gift in {donation.currency}",
                       donation)
    remaining = Money(original.minor - refunded, original.currency)
    if remaining.minor >= donation.amount_minor:
        # An older, smaller refund total arriving late changes nothing.
        return Outcome("processed", "this refund was already applied", donation)
    campaign = ctx.session.get_one(Campaign, donation.campaign_id)
    reason = f"Stripe: partly refunded, {Money(refunded, original.currency)} of {original}"
    try:
        with ctx.session.begin_nested():
            correct_donation(ctx.session, donation, campaign, actor=actor_for(SOURCE),
                             amount=remaining, reason=reason)
    except DomainError as exc:
        return Outcome("needs_attention", exc.message, donation)
    return Outcome("processed", reason, donation)
