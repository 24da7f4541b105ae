"""Endpoints the publisher registers, and the delivery of events to them with backoff.

A delivery is a row that moves from pending to delivered (a 2xx answer) or failed (its
retries used up, or its endpoint switched off). A sender takes a delivery with a conditional
UPDATE that sets a lease, so two workers never send one delivery at the same moment; a
worker killed mid-send lets the lease run out and the next sweep sends again, with the same
`webhook-id`, which the receiver uses to drop the repeat (Standard Webhooks, "Idempotency").
No transaction is open while the endpoint is being called.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..audit import Actor, record_event
from ..config import Settings
from ..db import begin_write
from ..errors import InvalidInput, NotFound
from ..events import WORK_DUE, emit, forget_endpoints
from ..models import (
    MAX_ROW_ID,
    WEBHOOK_EVENTS,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from . import http, signing

log = logging.getLogger(__name__)

#: Seconds to wait before each retry: the schedule Standard Webhooks suggests (immediately,
#: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), 27.6 hours in all, so an endpoint that is down
#: for a day still gets everything.
BACKOFF = (5, 300, 1800, 7200, 18000, 36000, 36000)
#: Deliveries a sweep sends at most (the next sweep sends the rest).
BATCH = 50


def _clean_events(events: list[str]) -> str:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown:
        raise InvalidInput(f"unknown event {unknown[0]!r}", field="events")
    if not events:
        raise InvalidInput("choose at least one event", field="events")
    return " ".join(e for e in WEBHOOK_EVENTS if e in events)


def add_endpoint(session: Session, url: str, events: list[str], *, actor: Actor, description: str = "",
                 settings: Settings) -> WebhookEndpoint:
    """Register an endpoint; its secret is on the returned object (show it once, it is never shown again)."""
    url = url.strip()
    if len(url) > 2000:
        raise InvalidInput("the URL is longer than 2,000 characters", field="url")
    try:
        scheme, host, port, _path = http.check_url(url)
        if not settings.webhooks.allow_private_addresses:
            http.resolve(host, port, allow_private=False)
    except http.Refused as exc:
        raise InvalidInput(str(exc), field="url") from None
    if scheme == "http" and not settings.is_development and not settings.webhooks.allow_private_addresses:
        raise InvalidInput("use an https:// URL: the deliveries carry donors' names", field="url")
    endpoint = WebhookEndpoint(url=url, events=_clean_events(events), secret=signing.new_secret(),
                               description=description.strip()[:200], active=True, disabled_reason="",
                               created_at=utcnow())
    session.add(endpoint)
    session.flush()
    forget_endpoints(session)
    record_event(session, actor, "webhook_endpoint.create", endpoint,
                 after={"url": url, "events": endpoint.events})
    return endpoint


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id) if 0 < endpoint_id <= MAX_ROW_ID else None
    if endpoint is None:
        raise NotFound("there is no such webhook endpoint")
    return endpoint


def set_active(session: Session, endpoint: WebhookEndpoint, active: bool, *, actor: Actor) -> None:
    endpoint.active = active
    forget_endpoints(session)
    if active:
        endpoint.failing_since = None
        endpoint.disabled_reason = ""
    record_event(session, actor, "webhook_endpoint.enable" if active else "webhook_endpoint.disable", endpoint,
                 after={"active": active})


def delete_endpoint(session: Session, endpoint: WebhookEndpoint, *, actor: Actor) -> None:
    record_event(session, actor, "webhook_endpoint.delete", endpoint, before={"url": endpoint.url})
    session.delete(endpoint)


def send_again(session: Session, delivery_id: int, *, actor: Actor) -> WebhookDelivery:
    """Queue a delivery once more (the admin's "send again"), with the same webhook-id."""
    delivery = session.get(WebhookDelivery, delivery_id) if 0 < delivery_id <= MAX_ROW_ID else None
    if delivery is None:
        raise NotFound("there is no such delivery")
    delivery.state = "pending"
    delivery.next_attempt_at = utcnow()
    delivery.leased_until = None
    record_event(session, actor, "webhook_delivery.resend", delivery)
    session.info[WORK_DUE] = True
    return delivery


def recent_deliveries(session: Session, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


def attempts_of(session: Session, deliveries: list[WebhookDelivery]) -> dict[int, list[WebhookAttempt]]:
    found: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if found:
        for attempt in session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(found))
                                       .order_by(WebhookAttempt.id)):
            found[attempt.delivery_id].append(attempt)
    return found


def _take(session: Session, delivery_id: int, now: datetime, lease: timedelta) -> bool:
    taken = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == "pending",
               WebhookDelivery.next_attempt_at <= now,
               or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now))
        .values(leased_until=now + lease, attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    return bool(getattr(taken, "rowcount", 0) == 1)


def deliver_due(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Send every delivery that is due (at most BATCH); returns how many attempts were made."""
    now = now or utcnow()
    timeout = settings.webhooks.timeout_seconds
    lease = timedelta(seconds=2 * timeout + 5)
    due = list(session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(BATCH)))
    session.commit()
    attempts = 0
    for delivery_id in due:
        begin_write(session)  # SQLite: take the write lock first, never upgrade a read to a write
        if not _take(session, delivery_id, utcnow(), lease):
            session.commit()
            continue  # another worker has it, or it was delivered meanwhile
        delivery = session.get_one(WebhookDelivery, delivery_id, populate_existing=True)
        endpoint = session.get_one(WebhookEndpoint, delivery.endpoint_id, populate_existing=True)
        event = session.get_one(OutboxEvent, delivery.event_id)
        url, secret, message_id, attempt_number = endpoint.url, endpoint.secret, delivery.message_id, delivery.attempts
        body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
        active = endpoint.active
        session.commit()  # nothing is held while the endpoint is called
        if not active:
            answer = http.Answer(None, "the endpoint is switched off", 0)
        else:
            answer = http.post(url, body, signing.headers(secret, message_id, int(utcnow().timestamp()), body),
                               timeout=timeout, allow_private=settings.webhooks.allow_private_addresses)
        attempts += 1
        begin_write(session)
        _record(session, settings, delivery_id, answer, attempt_number)
        session.commit()
    return attempts


def _record(session: Session, settings: Settings, delivery_id: int, answer: http.Answer, attempt_number: int) -> None:
    now = utcnow()
    delivery = session.get_one(WebhookDelivery, delivery_id, populate_existing=True)
    endpoint = session.get_one(WebhookEndpoint, delivery.endpoint_id, populate_existing=True)
    session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=answer.status,
                               latency_ms=answer.latency_ms, excerpt=answer.excerpt[:500], ok=answer.ok))
    delivery.leased_until = None
    if answer.ok:
        delivery.state, delivery.delivered_at = "delivered", now
        endpoint.failing_since = None
        return
    if endpoint.active and endpoint.failing_since is None:
        endpoint.failing_since = now
    if attempt_number > len(BACKOFF) or not endpoint.active:
        delivery.state = "failed"
    else:
        delivery.next_attempt_at = now + timedelta(seconds=BACKOFF[attempt_number - 1])
    give_up = timedelta(hours=settings.webhooks.give_up_hours)
    if endpoint.active and endpoint.failing_since is not None and now - endpoint.failing_since >= give_up:
        endpoint.active = False
        endpoint.disabled_reason = (f"every delivery failed for {settings.webhooks.give_up_hours} hours "
                                    f"(last answer: {answer.excerpt[:200] or answer.status})")
        log.warning("webhook endpoint %s switched off: %s", endpoint.id, endpoint.disabled_reason)
        emit(session, "endpoint.disabled", f"endpoint.disabled:{endpoint.id}:{now.isoformat()}",
             {"endpoint": endpoint.url, "reason": endpoint.disabled_reason}, mail=True)
