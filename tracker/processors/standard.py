"""Standard Webhooks: any sender (Zapier, n8n, a script) posting the tracker's documented gift body.

Follows the Standard Webhooks specification (standardwebhooks.com, "Verifying webhook
signatures"): headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
(space-separated `v1,<base64>`); the signature is HMAC-SHA256 over `"{id}.{timestamp}.{body}"`
with the secret's bytes (`whsec_` + base64); timestamps outside the tolerance are refused.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Mapping

from ..config import ProcessorSettings
from ..db import lock
from ..donations.ledger import confirm_donation, refund_donation
from ..errors import DomainError
from ..models import InboundEvent
from .common import (
    TOLERANCE_SECONDS,
    Context,
    Delivery,
    Gift,
    Outcome,
    Refused,
    Unusable,
    actor_for,
    amount_from_text,
    clean_ref,
    dig,
    find_gift,
    from_iso,
    parse_json,
    record_gift,
    text_of,
)
from .signing import hmac_sha256, matching_secret, secrets_of

SOURCE = "standard"
STATUSES = ("confirmed", "pending", "refunded")


def _key(secret: str) -> bytes:
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused(401, "the configured secret is not whsec_ followed by base64") from exc


def verify(headers: Mapping[str, str], body: bytes, config: ProcessorSettings, now: datetime) -> Delivery:
    secrets = secrets_of(config)
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signature_header = headers.get("webhook-signature", "")
    if not message_id or not timestamp or not signature_header:
        raise Refused(400, "no webhook-id, webhook-timestamp or webhook-signature header")
    if not timestamp.isdigit() or len(timestamp) > 11:
        raise Refused(400, "the webhook-timestamp is not a Unix time")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise Refused(401, "the webhook-timestamp is more than 5 minutes away from now (a replay?)")
    given = []
    for part in signature_header.split(" "):
        version, _, value = part.partition(",")
        if version == "v1":
            try:
                given.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    if not given:
        raise Refused(400, "the webhook-signature header has no v1 signature")
    signed = f"{message_id}.{timestamp}.".encode() + body
    matched = matching_secret(((name, hmac_sha256(_key(secret), signed)) for name, secret in secrets), given)
    if matched is None:
        raise Refused(401, "the signature does not match (wrong secret, or the body was changed)")
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise Refused(400, "the body is not a JSON object")
    event_id = text_of(message_id)
    if not event_id:
        raise Refused(400, "the webhook-id is empty")
    return Delivery(event_id, text_of(payload.get("type"), 100) or "gift", payload, matched,
                    text_of(payload.get("id")))


def payload_of(body: bytes) -> Any:
    return parse_json(body)


def apply(ctx: Context, event: InboundEvent, payload: Any, config: ProcessorSettings) -> Outcome:
    """A gift (the body documented in docs/processors.md): recorded, confirmed, or refunded."""
    gift_id = text_of(payload.get("id"))
    if not gift_id:
        raise Unusable("the body has no id")
    status = payload.get("status", "confirmed")
    if status not in STATUSES:
        raise Unusable(f"the status {status!r} is not one of {', '.join(STATUSES)}")
    existing = find_gift(ctx.session, SOURCE, gift_id)
    if status == "refunded":
        if existing is None:
            return Outcome("waiting", "the gift this refund belongs to has not arrived yet")
        donation = lock(ctx.session, existing)
        if donation.status == "refunded":
            return Outcome("processed", "the gift was already refunded", donation)
        try:
            with ctx.session.begin_nested():
                refund_donation(ctx.session, donation, actor=actor_for(SOURCE),
                                reason=text_of(payload.get("reason")) or "refunded by the sender")
        except DomainError as exc:
            return Outcome("needs_attention", exc.message, donation)
        return Outcome("processed", "refunded", donation)
    if existing is not None and existing.status == "pending" and status == "confirmed":
        donation = lock(ctx.session, existing)
        if donation.status == "pending":
            with ctx.session.begin_nested():
                confirm_donation(ctx.session, donation, actor=actor_for(SOURCE))
        return Outcome("processed", "confirmed", donation)
    return record_gift(ctx, SOURCE, Gift(
        external_id=gift_id, amount=amount_from_text(payload.get("amount"), payload.get("currency")),
        received_at=from_iso(payload.get("received_at"), ctx.now),
        campaign_slug=text_of(payload.get("campaign")) or config.default_campaign, status=status,
        donor_name=text_of(dig(payload, "donor", "name")), message=text_of(dig(payload, "donor", "message"), 2000),
        is_public=dig(payload, "donor", "public") is True, ref=clean_ref(payload.get("ref")),
        recurring=payload.get("recurring") is True))
