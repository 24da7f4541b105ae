"""Ko-fi: the verification token inside the `data` form field, and which payments count.

Follows Ko-fi's webhook documentation: a form-encoded POST whose field `data` holds the payment
as JSON with the account's `verification_token`; retries repeat the same `message_id`; `type`
is Donation, Subscription, Commission or Shop Order; `is_public=false` asks that the name and
message are not shown publicly.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import parse_qs

from ..config import KofiSettings
from ..models import InboundEvent
from .common import (
    Context,
    Delivery,
    Gift,
    Outcome,
    Refused,
    Unusable,
    amount_from_text,
    from_iso,
    record_gift,
    text_of,
)

SOURCE = "kofi"


def payload_of(body: bytes) -> Any:
    """The JSON of the `data` field of the form-encoded body, or Refused(400)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"the body is not a form: {exc}") from exc
    values = fields.get("data") or []
    if len(values) != 1:
        raise Refused(400, "the form has no single `data` field")
    try:
        payload = json.loads(values[0])
    except ValueError as exc:
        raise Refused(400, f"the `data` field is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise Refused(400, "the `data` field is not a JSON object")
    return payload


def verify(headers: Mapping[str, str], body: bytes, config: KofiSettings, now: datetime) -> Delivery:
    """The delivery, if its verification token is the configured one."""
    if not config.verification_token:
        raise Refused(401, "this connection has no verification token configured")
    payload = payload_of(body)
    token = payload.get("verification_token")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), config.verification_token.encode()):
        raise Refused(401, "the Ko-fi verification token does not match")
    message_id, kind = text_of(payload.get("message_id")), text_of(payload.get("type"), 100)
    if not message_id or not kind:
        raise Refused(400, "the payment has no message_id or type")
    return Delivery(message_id, kind, payload, "token", text_of(payload.get("kofi_transaction_id")))


def apply(ctx: Context, event: InboundEvent, payload: Any, config: KofiSettings) -> Outcome:
    kind = event.event_type
    if kind in ("Shop Order", "Commission") and not config.count_shop_orders:
        return Outcome("ignored", f"{kind}s are not counted (processors.kofi.count_shop_orders)")
    if kind not in ("Donation", "Subscription", "Shop Order", "Commission"):
        return Outcome("ignored", f"{kind} is not a Ko-fi payment type the tracker knows")
    external_id = text_of(payload.get("kofi_transaction_id")) or text_of(payload.get("message_id"))
    if not external_id:
        raise Unusable("the payment has no transaction id")
    public = payload.get("is_public") is True
    return record_gift(ctx, SOURCE, Gift(
        external_id=external_id, amount=amount_from_text(payload.get("amount"), payload.get("currency")),
        received_at=from_iso(payload.get("timestamp"), ctx.now), campaign_slug=config.default_campaign,
        donor_name=text_of(payload.get("from_name")), message=text_of(payload.get("message"), 2000),
        # is_public=false keeps the name and message off the donor wall (they stay for the admins).
        is_public=public, recurring=payload.get("is_subscription_payment") is True or kind == "Subscription"))
