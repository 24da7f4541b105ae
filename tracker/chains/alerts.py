"""The owner is told by e-mail when a watcher keeps failing (once per run of failures)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy.orm import Session

from ..config import Settings
from ..models import ChainWatcher
from ..notices import recipients, send_message
from .backend import log
from .watcher import PassResult

#: Failed passes in a row after which the owner is told (with the default backoff: about half an hour).
ALERT_AFTER = 5


def failure_message(session: Session, settings: Settings, result: PassResult) -> EmailMessage | None:
    """The e-mail to send about a failed pass, or None (not failing long enough, told already, no SMTP)."""
    if result.ok or result.failures != ALERT_AFTER or not settings.smtp.host:
        return None
    to = recipients(session, settings)
    if not to:
        return None
    status = session.get(ChainWatcher, result.coin)
    good = (f"{status.last_success_at:%Y-%m-%d %H:%M} UTC" if status and status.last_success_at else "never")
    message = EmailMessage()
    message["Subject"] = f"{settings.site.name}: the {result.coin} watcher failed {result.failures} times in a row"
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(to)
    message.set_content(
        f"The {result.coin} chain watcher could not use its backend {result.failures} times in a row.\n\n"
        f"Last error: {result.error}\nLast good answer: {good}\n\n"
        f"Nothing was recorded from the failed answers. Gifts sent meanwhile are recorded once the "
        f"backend answers again. See the admin's Chains page and docs/chains.md.\n")
    return message


def send(settings: Settings, message: EmailMessage) -> bool:
    """Send through the configured server; False (logged) when it fails: an alert must never break a pass."""
    try:
        send_message(settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not send the watcher alert: %s", exc)
        return False
    return True
