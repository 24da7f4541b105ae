"""Follow-up work of the inbox, as plain idempotent functions `fn(session, settings) -> summary`.

The queue (Huey, tracker/jobs.py) runs each of `PERIODIC` at its interval; every function may
run twice or concurrently without doubling anything, because the inbox's states and the
ledger's (source, external id) keys decide what is left to do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import Settings
from ..models import InboundEvent, utcnow
from . import btcpay, github
from .common import Context, Unusable, record_gift
from .inbox import due_events, process_event


def fetch_btcpay_invoices(session: Session, settings: Settings, *, now: datetime | None = None,
                          timeout: float = 10) -> dict[str, int]:
    """Read the invoices of BTCPay events still waiting for their amounts, with backoff between tries."""
    now = now or utcnow()
    config = settings.processors.btcpay

    def fetch(store_id: str, invoice_id: str) -> Any:
        return btcpay.fetch_invoice(config, store_id, invoice_id, timeout=timeout)

    summary = {"tried": 0, "processed": 0, "still_waiting": 0}
    for event in due_events(session, ("pending_fetch",), now):
        if event.processor != "btcpay":
            continue
        summary["tried"] += 1
        process_event(session, settings, event, now=now, fetch_invoice=fetch)
        summary["processed" if event.state != "pending_fetch" else "still_waiting"] += 1
    session.flush()
    return summary


def retry_needing_rate(session: Session, settings: Settings, *, now: datetime | None = None) -> dict[str, int]:
    """Apply again the gifts that waited for an exchange rate, and refunds that waited for their payment."""
    now = now or utcnow()
    summary = {"tried": 0, "processed": 0}
    for event in due_events(session, ("needs_rate", "waiting"), now):
        summary["tried"] += 1
        process_event(session, settings, event, now=now)
        summary["processed"] += event.state == "processed"
    return summary


def record_github_renewals(session: Session, settings: Settings, *, now: datetime | None = None) -> dict[str, int]:
    """Record each month of every active GitHub sponsorship (GitHub sends no event when one renews)."""
    now = now or utcnow()
    config = settings.processors.github_sponsors
    latest: dict[str, InboundEvent] = {}
    rows = session.scalars(
        select(InboundEvent).where(
            InboundEvent.processor == "github", InboundEvent.state == "processed",
            InboundEvent.event_type.in_(("sponsorship.created", "sponsorship.tier_changed", "sponsorship.cancelled")))
        .order_by(InboundEvent.received_at, InboundEvent.id))
    for event in rows:
        if event.subject:
            latest[event.subject] = event
    ctx = Context(session, settings, now)
    summary = {"sponsorships": 0, "recorded": 0}
    for event in latest.values():
        if event.event_type == "sponsorship.cancelled":
            continue
        try:
            sponsorship = github.sponsorship_of(github.payload_of(event.body), now)
        except Unusable:
            continue
        if sponsorship.one_time:
            continue
        summary["sponsorships"] += 1
        first = _first_event(session, event.subject or "")
        started = github.sponsorship_of(github.payload_of(first.body), now).started if first else sponsorship.started
        for month in github.months_after(started, now):
            outcome = record_gift(ctx, "github", github.gift_for(sponsorship, month, config.default_campaign))
            if outcome.state == "processed" and outcome.reason != "the gift was already in the ledger":
                summary["recorded"] += 1
    return summary


def _first_event(session: Session, subject: str) -> InboundEvent | None:
    return session.scalar(
        select(InboundEvent).where(InboundEvent.processor == "github", InboundEvent.subject == subject,
                                   InboundEvent.event_type == "sponsorship.created")
        .order_by(InboundEvent.received_at, InboundEvent.id).limit(1))


#: (function, seconds between runs) for the queue's scheduler.
PERIODIC: list[tuple[Callable[..., dict[str, int]], int]] = [
    (fetch_btcpay_invoices, 60),
    (retry_needing_rate, 15 * 60),
    (record_github_renewals, 6 * 3600),
]
