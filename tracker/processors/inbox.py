"""The inbox: every verified event is stored raw first, then applied to the ledger in the same transaction.

Exactly once: the unique (processor, event id) makes a redelivery or a concurrent duplicate
find the stored row instead of applying again (INSERT … ON CONFLICT DO NOTHING, which on
PostgreSQL waits for the first transaction and then sees its row). Events that cannot be
applied yet wait in the inbox with a state the admin sees, and are tried again by `jobs.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..config import ProcessorSettings, Settings
from ..db import lock, upsert_for
from ..errors import NotFound
from ..models import InboundEvent, utcnow
from . import btcpay, github, kofi, standard, stripe
from .common import Context, Delivery, Outcome, Refused, Unusable, events_about

#: The module of each connection, by the name used in the inbox and the URL.
MODULES: dict[str, ModuleType] = {"stripe": stripe, "btcpay": btcpay, "kofi": kofi, "github": github,
                                  "standard": standard}
log = logging.getLogger("tracker.processors")

#: Longest wait between two follow-up attempts.
MAX_BACKOFF = timedelta(hours=6)


def connection_settings(settings: Settings, processor: str) -> ProcessorSettings:
    """The `[processors.…]` section of a connection."""
    name = "github_sponsors" if processor == "github" else processor
    config: ProcessorSettings = getattr(settings.processors, name)
    return config


def verify(settings: Settings, processor: str, headers: Any, body: bytes, now: datetime) -> Delivery:
    """Check a delivery's signature with the connection's own scheme; Refused when it fails."""
    module = MODULES[processor]
    delivery: Delivery = module.verify(headers, body, connection_settings(settings, processor), now)
    return delivery


def receive(session: Session, settings: Settings, processor: str, delivery: Delivery, body: bytes, *,
            now: datetime | None = None, fetch_invoice: Callable[[str, str], Any] | None = None
            ) -> tuple[InboundEvent, bool]:
    """Store a verified delivery and apply it; (the event, False) when it was already stored (a replay)."""
    now = now or utcnow()
    new_id = session.execute(
        upsert_for(session)(InboundEvent)
        .values(processor=processor, event_id=delivery.event_id, event_type=delivery.event_type,
                subject=delivery.subject, body=body, received_at=now, signature=delivery.signature,
                state="pending_fetch", reason="received", attempts=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["processor", "event_id"])
        .returning(InboundEvent.id)).scalar()
    if new_id is None:
        existing = session.scalar(select(InboundEvent).where(
            InboundEvent.processor == processor, InboundEvent.event_id == delivery.event_id))
        assert existing is not None  # the conflict means it is stored and committed
        return existing, False
    event = session.get_one(InboundEvent, new_id)
    process_event(session, settings, event, now=now, fetch_invoice=fetch_invoice)
    return event, True


def process_event(session: Session, settings: Settings, event: InboundEvent, *, now: datetime | None = None,
                  fetch_invoice: Callable[[str, str], Any] | None = None) -> InboundEvent:
    """Apply a stored event (again) under its row lock; its state says what happened."""
    now = now or utcnow()
    event = lock(session, event)
    module = MODULES[event.processor]
    ctx = Context(session, settings, now, fetch_invoice)
    outcome: Outcome
    try:
        # A savepoint: an event that fails half-way leaves nothing of itself but its inbox row.
        with session.begin_nested():
            outcome = module.apply(ctx, event, module.payload_of(event.body),
                                   connection_settings(settings, event.processor))
    except (Unusable, Refused) as exc:
        outcome = Outcome("failed", str(exc))
    except SQLAlchemyError:
        raise  # the database is busy or gone: the whole delivery fails (503) and is sent again
    except Exception as exc:  # noqa: BLE001 - a verified event with a shape nobody foresaw
        log.exception("%s event %s could not be applied", event.processor, event.event_id)
        outcome = Outcome("failed", f"the event could not be applied ({type(exc).__name__}): see the server's log")
    _settle(event, outcome, now)
    session.flush()
    if outcome.state == "processed" and outcome.donation is not None and event.subject:
        # A refund that came before its payment was kept waiting: now it can be applied.
        for waiting in events_about(session, event.processor, event.subject, ("waiting",)):
            if waiting.id != event.id:
                process_event(session, settings, waiting, now=now, fetch_invoice=fetch_invoice)
    return event


def _settle(event: InboundEvent, outcome: Outcome, now: datetime) -> None:
    event.state = outcome.state
    event.reason = outcome.reason[:2000]
    if outcome.donation is not None:
        event.donation_id = outcome.donation.id
    event.attempts += 1
    if outcome.retry_in is not None:
        delay = timedelta(seconds=outcome.retry_in) * 2 ** min(event.attempts - 1, 16)
        event.next_attempt_at = now + min(delay, MAX_BACKOFF)
    else:
        event.next_attempt_at = None
    event.updated_at = now


def get_event(session: Session, event_id: int) -> InboundEvent:
    event = session.get(InboundEvent, event_id)
    if event is None:
        raise NotFound("there is no such inbound event")
    return event


def latest_events(session: Session, processor: str, limit: int = 10) -> list[InboundEvent]:
    """A connection's latest stored deliveries, newest first."""
    return list(session.scalars(
        select(InboundEvent).where(InboundEvent.processor == processor)
        .order_by(InboundEvent.received_at.desc(), InboundEvent.id.desc()).limit(limit)))


def waiting_events(session: Session, limit: int = 100) -> list[InboundEvent]:
    """Events an admin should look at: needs attention, needs a rate, failed, or still waiting."""
    return list(session.scalars(
        select(InboundEvent).where(InboundEvent.state.in_(("needs_attention", "needs_rate", "failed",
                                                           "pending_fetch", "waiting")))
        .order_by(InboundEvent.received_at.desc(), InboundEvent.id.desc()).limit(limit)))


def due_events(session: Session, states: tuple[str, ...], now: datetime, limit: int = 200) -> list[InboundEvent]:
    """Events in `states` whose next attempt is due, oldest first."""
    return list(session.scalars(
        select(InboundEvent).where(InboundEvent.state.in_(states),
                                   (InboundEvent.next_attempt_at.is_(None)) | (InboundEvent.next_attempt_at <= now))
        .order_by(InboundEvent.received_at, InboundEvent.id).limit(limit)))
