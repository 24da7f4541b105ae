"""The audit log: who changed what, when, from where, with before and after values; and reading it back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from .models import AuditEvent, Base
from .paging import Cursor, Page, keyset_page

#: Columns never copied into the log.
_SECRET_COLUMNS = frozenset({"password_hash", "totp_secret"})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or a command run on the server."""

    name: str
    user_id: int | None = None
    ip_address: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(name="cli")


def snapshot(obj: Base) -> dict[str, Any]:
    """The column values of a model as JSON-safe data, secrets left out."""
    values: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in _SECRET_COLUMNS:
            continue
        values[attr.key] = _jsonable(getattr(obj, attr.key))
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def record_event(session: Session, actor: Actor, action: str, obj: Base | None = None, *,
                 entity: str | None = None, entity_id: object = None,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent:
    """Add an audit event; `after` defaults to a snapshot of `obj`. Flushes, never commits."""
    if obj is not None:
        session.flush()
        entity = entity or obj.__tablename__
        entity_id = entity_id if entity_id is not None else inspect(obj).identity[0]  # type: ignore[index]
        if after is None:
            after = snapshot(obj)
    if before is not None and after is not None:
        # Keep only what changed (plus the id), so the log reads as a diff.
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        changed.discard("updated_at")
        before = {k: v for k, v in before.items() if k in changed or k == "id"}
        after = {k: v for k, v in after.items() if k in changed or k == "id"}
    event = AuditEvent(actor=actor.name, user_id=actor.user_id, ip_address=actor.ip_address,
                       action=action, entity=entity or "-",
                       entity_id=None if entity_id is None else str(entity_id),
                       before=before, after=after)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def find_audit_events(session: Session, filters: AuditFilter, *, older_than: Cursor | None = None,
                      newer_than: Cursor | None = None, per_page: int = 50) -> Page[AuditEvent]:
    """Audit events matching `filters`, newest first, a page at a time."""
    query = select(AuditEvent)
    if filters.entity:
        query = query.where(AuditEvent.entity == filters.entity)
    if filters.action:
        # "payment_method" finds every payment_method.* action.
        query = query.where((AuditEvent.action == filters.action)
                            | AuditEvent.action.startswith(filters.action + ".", autoescape=True))
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor.strip().lower())
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    return keyset_page(session, query, at=AuditEvent.at, id_=AuditEvent.id,
                       key=lambda event: Cursor(event.at, event.id), per_page=per_page,
                       older_than=older_than, newer_than=newer_than)


def audit_entities(session: Session) -> list[str]:
    """The entity names present in the log, for the filter's choices."""
    return list(session.scalars(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity)))



#: A stored timestamp: ISO 8601, perhaps with microseconds and an offset.
_ISO_MOMENT = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(\+00:00|Z)?$")


def readable_name(key: str) -> str:
    """A stored field's name as a person says it: "show_days_left" → "show days left", "target_minor" → "target"."""
    return key.removesuffix("_minor").replace("_", " ")


def readable_value(key: str, value: Any, record: Mapping[str, Any] | None = None, locale: str = "en") -> str:
    """A stored value as a person would write it: yes/no, "—", "$2,500", "2026-12-02 15:46:12 UTC".

    `record` is the snapshot the value comes from: its `currency` turns minor units into money.
    """
    currency = (record or {}).get("currency")
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_minor") and isinstance(value, int) and isinstance(currency, str):
        return _money_text(value, currency, locale)
    if key == "milestones" and isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], int):
                amount = _money_text(item[0], currency, locale) if isinstance(currency, str) else str(item[0])
                parts.append(f"{amount} “{item[1]}”" if item[1] else amount)
            else:
                parts.append(readable_value("", item, record, locale))
        return "; ".join(parts) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{readable_name(k)}: {readable_value(k, v, record, locale)}"
                         for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(readable_value("", item, record, locale) for item in value) or "none"
    if isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, str):
        moment = _ISO_MOMENT.match(value)
        if moment:
            day, clock, utc = moment.groups()
            return f"{day} {clock}{' UTC' if utc else ''}"
    return str(value)


def _money_text(minor: int, currency: str, locale: str) -> str:
    from .money import Money, MoneyError, format_money

    try:
        return format_money(Money(minor, currency), locale, trim_whole=False)
    except MoneyError:
        return f"{minor} (minor units of {currency})"
