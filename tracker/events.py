"""The outbox: what happened, written in the same transaction as the change itself.

Webhook deliveries and e-mails to the publisher are made from these rows by background jobs
(`tracker.webhooks.delivery`, `tracker.notices`). Because the event is committed with the
donation, a crash between "the bar moved" and "the webhook went out" loses nothing, and the
event's unique key makes each notice happen once however often the code that emits it runs
(a confirm retried by a processor, a milestone crossed twice by a correction and its undo).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import (
    NOTICE_EVENTS,
    WEBHOOK_EVENTS,
    Campaign,
    Donation,
    Milestone,
    OutboxEvent,
    PeriodTotal,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from .money import Money

#: session.info key: this transaction made deliveries or e-mails, so wake the queue after commit.
WORK_DUE = "tracker_work_due"
#: Events the publisher is e-mailed about (new donations only when asked for, see tracker.notices).
#: The ledger's actions and the webhook events they are.
DONATION_EVENTS = {"record": "donation.recorded", "confirm": "donation.confirmed", "refund": "donation.refunded"}
MAILED = ("donation.recorded", "milestone.reached", "goal.reached") + NOTICE_EVENTS


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def emit(session: Session, type_: str, key: str, data: dict[str, Any], *, mail: bool = False) -> bool:
    """Record an event once (by `key`) and queue a delivery for each endpoint that wants it.

    Returns False when an event with this key was already recorded: nothing is sent twice.
    The payload follows Standard Webhooks' recommended shape: type, timestamp and data.
    """
    if type_ not in WEBHOOK_EVENTS and type_ not in NOTICE_EVENTS:
        raise ValueError(f"unknown event type {type_!r}")
    now = utcnow()
    payload = {"type": type_, "timestamp": _iso(now), "data": data}
    existing = session.scalar(select(OutboxEvent.id).where(OutboxEvent.key == key))
    if existing is not None:
        return False
    # In a savepoint, so a key a concurrent transaction committed first (a unique violation)
    # leaves the caller's transaction intact.
    event = OutboxEvent(key=key, type=type_, payload=payload, created_at=now, mail_due=mail and type_ in MAILED)
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:  # the same key, committed by a concurrent transaction meanwhile
        return False
    if type_ in WEBHOOK_EVENTS:
        for endpoint in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))):
            if type_ in endpoint.event_types:
                session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                                            message_id=f"msg_{uuid.uuid4().hex}", state="pending",
                                            attempts=0, next_attempt_at=now, created_at=now))
    session.flush()
    session.info[WORK_DUE] = True
    return True


def donation_data(session: Session, donation: Donation) -> dict[str, Any]:
    """What a webhook says about a gift: exact amounts as strings; the donor's name and message
    only when they agreed to be shown publicly."""
    campaign = session.get_one(Campaign, donation.campaign_id)
    return {
        "id": donation.uid,
        "campaign": campaign.slug,
        "amount": Money(donation.amount_minor, donation.currency).plain(),
        "currency": donation.currency,
        "goal_amount": Money(donation.goal_amount_minor, donation.goal_currency).plain(),
        "goal_currency": donation.goal_currency,
        "status": donation.status,
        "source": donation.source,
        "recurring": donation.recurring,
        "ref": donation.ref,
        "received_at": _iso(donation.received_at),
        "donor_name": donation.donor_name if donation.is_public else None,
        "message": donation.message if donation.is_public else None,
    }


def donation_changed(session: Session, donation: Donation, action: str) -> None:
    """Emit what a ledger change means: the donation's own event, then any milestone or goal the
    period's total has now reached. Adjustments move the total but are not gifts."""
    if donation.source != "adjustment":
        type_ = DONATION_EVENTS.get(action)
        if type_ is not None:
            emit(session, type_, f"{type_}:{donation.uid}", donation_data(session, donation), mail=True)
    _thresholds(session, donation.campaign_id, donation.period_start)


def _thresholds(session: Session, campaign_id: int, period_start: datetime) -> None:
    total = session.get(PeriodTotal, (campaign_id, period_start))
    if total is None:
        return
    session.refresh(total)  # the ledger changed it with a plain UPDATE
    campaign = session.get_one(Campaign, campaign_id)
    period = _iso(period_start)
    raised = Money(total.raised_minor, campaign.currency)
    base = {"campaign": campaign.slug, "period_start": period, "raised": raised.plain(), "currency": campaign.currency}
    for milestone in session.scalars(select(Milestone).where(
            Milestone.campaign_id == campaign_id, Milestone.amount_minor <= total.raised_minor)):
        emit(session, "milestone.reached", f"milestone.reached:{campaign_id}:{period}:{milestone.id}",
             {**base, "milestone": Money(milestone.amount_minor, campaign.currency).plain(),
              "label": milestone.label}, mail=True)
    if campaign.target_minor > 0 and total.raised_minor >= campaign.target_minor:
        emit(session, "goal.reached", f"goal.reached:{campaign_id}:{period}",
             {**base, "target": Money(campaign.target_minor, campaign.currency).plain()}, mail=True)
