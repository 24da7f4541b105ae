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

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from .db import upsert_for
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
#: session.info keys: the event keys this transaction emitted, the active endpoints it read.
EMITTED = "tracker_emitted"
ENDPOINTS = "tracker_endpoints"
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
    seen: set[str] = session.info.setdefault(EMITTED, set())
    if key in seen:
        return False
    now = utcnow()
    payload = {"type": type_, "timestamp": _iso(now), "data": data}
    # INSERT … ON CONFLICT DO NOTHING: one statement, and of two transactions emitting the same
    # key at once the database keeps exactly one (the other gets no id back).
    event_id = session.execute(
        upsert_for(session)(OutboxEvent)
        .values(key=key, type=type_, payload=payload, created_at=now, mail_due=mail and type_ in MAILED)
        .on_conflict_do_nothing(index_elements=["key"]).returning(OutboxEvent.id)).scalar()
    seen.add(key)
    if event_id is None:
        return False
    if type_ in WEBHOOK_EVENTS:
        deliveries = [{"endpoint_id": endpoint_id, "event_id": event_id, "message_id": f"msg_{uuid.uuid4().hex}",
                       "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
                      for endpoint_id, events in _endpoints(session) if type_ in events]
        if deliveries:
            session.execute(insert(WebhookDelivery), deliveries)
    session.info[WORK_DUE] = True
    return True


def _endpoints(session: Session) -> list[tuple[int, list[str]]]:
    """The active endpoints and their events, read once per transaction (forget_endpoints after a change)."""
    found = session.info.get(ENDPOINTS)
    if found is None:
        found = [(endpoint_id, events.split()) for endpoint_id, events in session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active.is_(True)))]
        session.info[ENDPOINTS] = found
    return list(found)


def forget_endpoints(session: Session) -> None:
    session.info.pop(ENDPOINTS, None)


@event.listens_for(Session, "after_transaction_end")
def _reset(session: Session, _transaction: Any) -> None:
    """Forget what was emitted and read when any transaction (or savepoint) ends: the caches only
    save statements; the unique key in the database is what makes an event happen once."""
    session.info.pop(EMITTED, None)
    session.info.pop(ENDPOINTS, None)


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
    if donation.status == "confirmed":  # only money raised can reach a milestone or the goal
        _thresholds(session, donation.campaign_id, donation.period_start)


def _thresholds(session: Session, campaign_id: int, period_start: datetime) -> None:
    raised_minor = session.scalar(select(PeriodTotal.raised_minor).where(
        PeriodTotal.campaign_id == campaign_id, PeriodTotal.period_start == period_start))
    if not raised_minor or raised_minor <= 0:
        return
    campaign = session.get_one(Campaign, campaign_id)
    period = _iso(period_start)
    raised = Money(raised_minor, campaign.currency)
    base = {"campaign": campaign.slug, "period_start": period, "raised": raised.plain(), "currency": campaign.currency}
    for milestone_id, amount_minor, label in session.execute(select(Milestone.id, Milestone.amount_minor,
                                                                    Milestone.label).where(
            Milestone.campaign_id == campaign_id, Milestone.amount_minor <= raised_minor)):
        emit(session, "milestone.reached", f"milestone.reached:{campaign_id}:{period}:{milestone_id}",
             {**base, "milestone": Money(amount_minor, campaign.currency).plain(), "label": label}, mail=True)
    if campaign.target_minor > 0 and raised_minor >= campaign.target_minor:
        emit(session, "goal.reached", f"goal.reached:{campaign_id}:{period}",
             {**base, "target": Money(campaign.target_minor, campaign.currency).plain()}, mail=True)
