"""BTCPay Server: the `BTCPay-Sig` check, the Greenfield invoice fetch, and which events count.

Follows BTCPay's Greenfield API documentation: webhooks carry `BTCPay-Sig: sha256=<hex
HMAC-SHA256 of the raw body with the webhook's secret>` and no amounts, so the invoice is read
with `GET /api/v1/stores/{storeId}/invoices/{invoiceId}` (header `Authorization: token <key>`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import quote

from ..config import BtcpaySettings
from ..db import lock
from ..donations.ledger import confirm_donation, refund_donation
from ..errors import DomainError
from ..models import InboundEvent
from .common import (
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
    from_unix,
    parse_json,
    record_gift,
    text_of,
)
from .signing import hex_sha256_header, secrets_of

SOURCE = "btcpay"
#: Events whose effect depends on the invoice's amount, read from the Greenfield API.
NEEDS_INVOICE = ("InvoiceReceivedPayment", "InvoiceProcessing", "InvoicePaymentSettled", "InvoiceSettled")
#: Largest invoice document read back.
MAX_INVOICE = 256 * 1024


class FetchFailed(Exception):
    """The Greenfield API did not answer with the invoice (down, slow, wrong key)."""


def verify(headers: Mapping[str, str], body: bytes, config: BtcpaySettings, now: datetime) -> Delivery:
    """The delivery, if `BTCPay-Sig` matches the raw body with one of the secrets."""
    secrets = secrets_of(config)
    matched = hex_sha256_header("BTCPay-Sig", headers.get("BTCPay-Sig", ""), secrets, body, "BTCPay")
    payload = parse_json(body)
    # A redelivery names the delivery it repeats: both are one event.
    event_id = text_of(dig(payload, "originalDeliveryId")) or text_of(dig(payload, "deliveryId"))
    event_type = text_of(dig(payload, "type"), 100)
    if not event_id or not event_type:
        raise Refused(400, "the body is not a BTCPay webhook event (no deliveryId or type)")
    return Delivery(event_id, event_type, payload, matched, text_of(dig(payload, "invoiceId")))


def payload_of(body: bytes) -> Any:
    return parse_json(body)


def fetch_invoice(config: BtcpaySettings, store_id: str, invoice_id: str, *, timeout: float = 10) -> dict[str, Any]:
    """The invoice from the Greenfield API, or FetchFailed saying why not."""
    if not (config.url and config.api_key):
        raise FetchFailed("set processors.btcpay.url and api_key so the tracker can read invoices")
    url = (f"{config.url.rstrip('/')}/api/v1/stores/{quote(store_id, safe='')}"
           f"/invoices/{quote(invoice_id, safe='')}")
    request = urllib.request.Request(url, headers={"Authorization": f"token {config.api_key}",
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            raw = response.read(MAX_INVOICE + 1)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"the BTCPay server answered {exc.code} for invoice {invoice_id}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchFailed(f"the BTCPay server could not be reached: {exc}") from exc
    if len(raw) > MAX_INVOICE:
        raise FetchFailed("the BTCPay server's answer is too large")
    try:
        invoice = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FetchFailed("the BTCPay server's answer is not JSON") from exc
    if not isinstance(invoice, dict) or invoice.get("id") != invoice_id:
        raise FetchFailed("the BTCPay server's answer is not this invoice")
    return invoice


def apply(ctx: Context, event: InboundEvent, payload: Any, config: BtcpaySettings) -> Outcome:
    """Map one BTCPay event onto the ledger: received → pending, settled → confirmed, expired/invalid → removed."""
    kind = event.event_type
    invoice_id, store_id = text_of(dig(payload, "invoiceId")), text_of(dig(payload, "storeId"))
    if not invoice_id or not store_id:
        raise Unusable("the event names no invoiceId or storeId")
    if config.store_id and store_id != config.store_id:
        return Outcome("ignored", f"the invoice belongs to store {store_id}, not the configured one")
    if kind in NEEDS_INVOICE:
        try:
            if ctx.fetch_invoice is None:
                raise FetchFailed("the invoice is read by the follow-up job")
            invoice = ctx.fetch_invoice(store_id, invoice_id)
        except FetchFailed as exc:
            return Outcome("pending_fetch", str(exc), retry_in=60)
        return _from_invoice(ctx, invoice, config, settled=kind == "InvoiceSettled")
    if kind in ("InvoiceExpired", "InvoiceInvalid"):
        return _removed(ctx, invoice_id, payload, kind)
    return Outcome("ignored", f"{kind} does not change the ledger")


def _from_invoice(ctx: Context, invoice: Mapping[str, Any], config: BtcpaySettings, *, settled: bool) -> Outcome:
    status = invoice.get("status")
    if status in ("Expired", "Invalid") and not settled:
        return Outcome("ignored", f"the invoice is {status}")
    confirmed = settled or status == "Settled"
    metadata = invoice.get("metadata")
    gift = Gift(
        external_id=str(invoice["id"]), amount=amount_from_text(invoice.get("amount"), invoice.get("currency")),
        received_at=from_unix(invoice.get("createdTime"), ctx.now),
        campaign_slug=text_of(dig(metadata, "campaign")) or config.default_campaign,
        status="confirmed" if confirmed else "pending",
        donor_name=text_of(dig(metadata, "buyerName")), ref=clean_ref(dig(metadata, "ref")))
    outcome = record_gift(ctx, SOURCE, gift)
    donation = outcome.donation
    if donation is not None and confirmed and donation.status == "pending":
        donation = lock(ctx.session, donation)
        if donation.status == "pending":
            with ctx.session.begin_nested():
                confirm_donation(ctx.session, donation, actor=actor_for(SOURCE))
            return Outcome("processed", "the invoice is settled: the gift is confirmed", donation)
    return outcome


def _removed(ctx: Context, invoice_id: str, payload: Any, kind: str) -> Outcome:
    donation = find_gift(ctx.session, SOURCE, invoice_id)
    if donation is None:
        return Outcome("ignored", "nothing was counted for this invoice")
    donation = lock(ctx.session, donation)
    if donation.status == "refunded":
        return Outcome("processed", "the gift was already taken out", donation)
    if donation.status == "confirmed":
        return Outcome("needs_attention", f"{kind} for an invoice counted as settled: check it in BTCPay", donation)
    if kind == "InvoiceExpired" and dig(payload, "partiallyPaid") is True:
        return Outcome("needs_attention", "the invoice expired partly paid: check it in BTCPay", donation)
    reason = "BTCPay: the invoice expired unpaid" if kind == "InvoiceExpired" else "BTCPay: the invoice is invalid"
    try:
        with ctx.session.begin_nested():
            refund_donation(ctx.session, donation, actor=actor_for(SOURCE), reason=reason)
    except DomainError as exc:
        return Outcome("needs_attention", exc.message, donation)
    return Outcome("processed", reason, donation)
