"""E-mail to the publisher: new donations (or one digest a day), milestones and goals reached,
a webhook endpoint switched off, a payment watcher that cannot reach its backend.

Messages are made from the outbox (`tracker.events`): an event owes a message while its
`mail_due` is set; the sender clears it with a conditional UPDATE before sending (so two
workers never send one message) and sets it again if the server refused (so it is retried).
Sent with the standard library's smtplib, which does SMTP, STARTTLS and implicit TLS.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from gettext import ngettext
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .config import Settings
from .db import begin_write
from .models import OutboxEvent, User, utcnow

log = logging.getLogger(__name__)

BATCH = 50


def recipients(session: Session, settings: Settings) -> list[str]:
    if settings.smtp.recipients:
        return list(settings.smtp.recipients)
    return list(session.scalars(select(User.email).where(User.role == "owner", User.active.is_(True))
                                .order_by(User.id)))


def send(settings: Settings, to: list[str], subject: str, text: str) -> None:
    """Send one plain-text message; raises OSError/smtplib.SMTPException when the server refuses."""
    message = EmailMessage()
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(text)
    send_message(settings, message)


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Send a prepared message through the configured server (STARTTLS, implicit TLS or plain)."""
    smtp = settings.smtp
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=20, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=20)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


def describe(event: OutboxEvent, site: str) -> tuple[str, str]:
    """Subject and text of the message about one event."""
    data: dict[str, Any] = event.payload.get("data", {})
    if event.type == "donation.recorded":
        who = data.get("donor_name") or "someone"
        state = "pending" if data.get("status") == "pending" else "received"
        return (f"{site}: a gift of {data.get('amount')} {data.get('currency')}",
                f"A gift of {data.get('amount')} {data.get('currency')} from {who} to {data.get('campaign')} "
                f"is {state} (via {data.get('source')}).")
    if event.type == "milestone.reached":
        return (f"{site}: milestone {data.get('milestone')} {data.get('currency')} reached",
                f"{data.get('campaign')} has raised {data.get('raised')} {data.get('currency')} and passed the "
                f"milestone {data.get('label') or data.get('milestone')}.")
    if event.type == "goal.reached":
        return (f"{site}: goal reached",
                f"{data.get('campaign')} has raised {data.get('raised')} {data.get('currency')} of "
                f"{data.get('target')}: the goal is reached.")
    if event.type == "endpoint.disabled":
        return (f"{site}: a webhook endpoint was switched off",
                f"The webhook endpoint {data.get('endpoint')} was switched off: {data.get('reason')}.\n"
                "Fix it, then switch it on again under Webhooks in the admin.")
    if event.type == "watcher.failing":
        return (f"{site}: the {data.get('coin')} watcher cannot reach its backend",
                f"The {data.get('coin')} payment watcher has not had a good answer since {data.get('since')}: "
                f"{data.get('reason')}. Gifts in {data.get('coin')} are not seen until it recovers.")
    return f"{site}: {event.type}", str(data)


def send_due_mail(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Send the messages owed; returns how many were sent. Without SMTP nothing is owed."""
    if not settings.smtp.host:
        # No mail server: nothing is owed (and configuring one later sends no backlog).
        session.execute(update(OutboxEvent).where(OutboxEvent.mail_due.is_(True)).values(mail_due=False))
        return 0
    digest = settings.smtp.daily_digest
    query = select(OutboxEvent.id).where(OutboxEvent.mail_due.is_(True)).order_by(OutboxEvent.id).limit(BATCH)
    if digest:
        query = query.where(OutboxEvent.type != "donation.recorded")
    due = list(session.scalars(query))
    to = recipients(session, settings)
    session.commit()
    if not to:
        return 0
    sent = 0
    for event_id in due:
        begin_write(session)  # SQLite: take the write lock first, never upgrade a read to a write
        taken = session.execute(
            update(OutboxEvent).where(OutboxEvent.id == event_id, OutboxEvent.mail_due.is_(True))
            .values(mail_due=False, mailed_at=utcnow()).execution_options(synchronize_session=False))
        if getattr(taken, "rowcount", 0) != 1:
            session.commit()
            continue
        event = session.get_one(OutboxEvent, event_id)
        subject, text = describe(event, settings.site.name)
        session.commit()
        try:
            send(settings, to, subject, text)
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail about %s not sent (%s); it will be tried again", event.key, exc)
            begin_write(session)
            session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id)
                            .values(mail_due=True, mailed_at=None))
            session.commit()
            break  # the server is down: the next sweep tries again
    return sent


def daily_digest(session: Session, settings: Settings) -> str:
    """With `smtp.daily_digest`, one message listing the donations recorded since the last one."""
    if not settings.smtp.host or not settings.smtp.daily_digest:
        return "digest off"
    events = list(session.scalars(select(OutboxEvent).where(OutboxEvent.type == "donation.recorded",
                                                            OutboxEvent.mail_due.is_(True)).order_by(OutboxEvent.id)))
    if not events:
        return "nothing new"
    to = recipients(session, settings)
    lines = [describe(event, settings.site.name)[1] for event in events]
    for event in events:
        event.mail_due, event.mailed_at = False, utcnow()
    session.flush()
    gifts = ngettext("%d new gift", "%d new gifts", len(events)) % len(events)
    send(settings, to, f"{settings.site.name}: {gifts}", "\n".join(lines))
    return ngettext("%d gift in the digest", "%d gifts in the digest", len(events)) % len(events)
