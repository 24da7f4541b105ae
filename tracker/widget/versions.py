"""What a widget's answer depends on, read in one indexed query straight through the driver."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Hashable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ..campaigns.operations import SLUG
from ..campaigns.progress import ONCE_KEY, day_bounds, period_window
from ..errors import NotFound
from ..models import PeriodTotal


@dataclass(frozen=True)
class CampaignVersion:
    """Everything a widget's content depends on, short of loading the campaign."""

    id: int
    slug: str
    period: str
    timezone: str
    display: Mapping[str, Any] = field(compare=False, hash=False)
    #: The campaign's updated_at as the database returns it (edits, milestones, status).
    changed: str
    #: updated_at of the newest period total that has begun ("" before the first donation).
    total_changed: str
    period_key: datetime
    #: Today in the campaign's zone: days left change at its midnight.
    today: date

    def key(self) -> tuple[Hashable, ...]:
        return (self.id, self.slug, self.changed, self.total_changed, self.period_key.isoformat(),
                self.today.isoformat())


#: The version lookup, written out: it runs on every widget request of every embedding site,
#: where building and compiling a SQLAlchemy statement costs ten times the query itself. The
#: subquery reads the newest period total that has begun, which is the current period's row
#: once it exists, so a donation to the current period always changes it; both parts are
#: index seeks (campaign.slug is unique; period_total's key is (campaign_id, period_start)).
_VERSION_SQL = (
    "SELECT c.id, c.slug, c.period, c.timezone, c.display, c.updated_at, "
    "(SELECT t.updated_at FROM period_total t WHERE t.campaign_id = c.id AND t.period_start <= {now} "
    "ORDER BY t.period_start DESC LIMIT 1) "
    "FROM campaign c WHERE {where}"
)


_ONE = "c.slug = {slug} AND c.status <> 'draft'"


_ACTIVE = "c.status = 'active' ORDER BY c.created_at, c.id"


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "named": ":{}", "pyformat": "%({})s"}


class VersionReader:
    """Reads campaign versions with one statement straight through the driver."""

    # Building and compiling a SQLAlchemy statement in an ORM session would cost several
    # times the query itself, on every widget request of every embedding site. The statement
    # still goes to the engine's before/after_cursor_execute listeners, so logging, tracing
    # and the tests that count statements see it like any other.

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        style = engine.dialect.paramstyle
        if style not in _PLACEHOLDERS:
            raise ValueError(f"unsupported driver parameter style {style!r}")
        self._named = style in ("named", "pyformat")
        mark = _PLACEHOLDERS[style]
        now, slug = mark.format("now"), mark.format("slug")
        self._one_sql = _VERSION_SQL.format(now=now, where=_ONE.format(slug=slug))
        self._active_sql = _VERSION_SQL.format(now=now, where=_ACTIVE)
        # The column type's own conversion: SQLite stores timestamps as text in a set format.
        self._bind_now: Callable[[Any], Any] = (
            PeriodTotal.__table__.c.period_start.type.bind_processor(engine.dialect) or (lambda v: v))

    def _rows(self, sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        params: Any = values if self._named else tuple(values.values())
        # The pooled connection is used below SQLAlchemy's transaction layer: SQLite runs the
        # lone SELECT in autocommit mode (see db.py); a driver-begun transaction (PostgreSQL)
        # is rolled back when the connection goes back to the pool.
        with self._engine.connect() as connection:
            cursor = connection.connection.cursor()
            try:
                connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                connection.dispatch.after_cursor_execute(connection, cursor, sql, params, None, False)
            finally:
                cursor.close()
        return [tuple(row) for row in rows]

    def one(self, slug: str, now: datetime) -> CampaignVersion:
        """The version of public campaign `slug`, or NotFound."""
        if not SLUG.fullmatch(slug):
            raise NotFound(f"there is no campaign {slug!r}")
        rows = self._rows(self._one_sql, {"now": self._bind_now(now), "slug": slug})
        if not rows:
            raise NotFound(f"there is no campaign {slug!r}")
        return _version(rows[0], now)

    def active(self, now: datetime) -> tuple[CampaignVersion, ...]:
        """Versions of every active campaign, in list order."""
        return tuple(_version(row, now) for row in self._rows(self._active_sql, {"now": self._bind_now(now)}))


#: (period, zone) -> (valid from, valid until, period key, local date): pure calendar arithmetic,
#: reused while `now` stays inside the same local day (and so the same period).
_CALENDAR: dict[tuple[str, str], tuple[datetime, datetime, datetime, date]] = {}


def _calendar(period: str, tz: str, now: datetime) -> tuple[datetime, date]:
    """The period key and the local date at `now` for a campaign's period and zone."""
    known = _CALENDAR.get((period, tz))
    if known is not None and known[0] <= now < known[1]:
        return known[2], known[3]
    today = now.astimezone(ZoneInfo(tz)).date()
    day_start, day_end = day_bounds(today, tz)
    window = period_window(period, tz, now)
    _CALENDAR[(period, tz)] = (day_start, day_end, ONCE_KEY if window is None else window[0], today)
    return _CALENDAR[(period, tz)][2], today


def _version(row: tuple[Any, ...], now: datetime) -> CampaignVersion:
    campaign_id, slug, period, tz, display, changed, total_changed = row
    if isinstance(display, str):  # SQLite hands JSON back as text; psycopg decodes it
        display = json.loads(display)
    key, today = _calendar(period, tz, now)
    return CampaignVersion(
        id=campaign_id, slug=slug, period=period, timezone=tz, display=display or {}, changed=str(changed),
        total_changed="" if total_changed is None else str(total_changed), period_key=key, today=today)

