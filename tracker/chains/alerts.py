"""The owner is told by e-mail when a watcher keeps failing (once per run of failures)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import Settings
from ..models import ChainWatcher, User
from .backend import log
from .watcher import PassResult

#: Failed passes in a row after which the owner is told (with the default backoff: about half an hour).
ALERT_AFTER = 5


def failure_message(session: Session, settings: Settings, result: PassResult) -> EmailMessage | None:
    """The e-mail to send about a failed pass, or None (not failing long enough, told already, no SMTP)."""
    if result.ok or result.failures != ALERT_AFTER or not settings.smtp.host:
        return None
    recipients = list(settings.smtp.recipients) or list(session.scalars(
        select(User.email).where(User.role == "owner", User.active.is_(True)).order_by(User.id)))
    if not recipients:
        return None
    status = session.get(ChainWatcher, result.coin)
    good = (f"{status.last_success_at:%Y-%m-%d %H:%M} UTC" if status and status.last_success_at else "never")
    message = EmailMessage()
    message["Subject"] = f"{settings.site.name}: the {result.coin} watcher failed {result.failures} times in a row"
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(recipients)
    message.set_content(
        f"The {result.coin} chain watcher could not use its backend {result.failures} times in a row.\n\n"
        f"Last error: {result.error}\nLast good answer: {good}\n\n"
        f"Nothing was recorded from the failed answers. Gifts sent meanwhile are recorded once the "
        f"backend answers again. See the admin's Chains page and docs/chains.md.\n")
    return message


def send(settings: Settings, message: EmailMessage) -> bool:
    """Send through the configured server; False (logged) when it fails: an alert must never break a pass."""
    smtp = settings.smtp
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=10,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not send the watcher alert: %s", exc)
        return False
    return True
