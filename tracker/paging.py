"""Pages of long lists, newest first, by keyset: each page reads an index in order and stops.

OFFSET paging read (and threw away) every row before the page, so page 1,000 of a million
gifts cost 249 times page 1 on SQLite; counting "page x of y" cost a scan of every match.
A page here is the rows before (or after) a cursor, the cursor being the last row's
(time, id), which both databases find by an index seek.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Generic, Sequence, TypeVar, Unpack

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from .errors import InvalidQuery

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """A position in a list ordered by (time, id), newest first."""

    at: datetime
    id: int

    def text(self) -> str:
        """As it goes into a URL: `2026-11-02T10:00:00+00:00~123`."""
        return f"{self.at.isoformat()}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor a URL carries, or InvalidQuery (never a 500 for an edited link)."""
        moment, _, number = text.partition("~")
        try:
            at = datetime.fromisoformat(moment) if moment.isascii() else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is None or not (number.isascii() and number.isdecimal()) or len(number) > 10:
            raise InvalidQuery("this page link is not one of ours: start from the first page")
        return cls(at, int(number))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, newest first, with the cursors to the pages beside it."""

    items: Sequence[T]
    #: The page of older items, or None at the end of the list.
    older: Cursor | None
    #: The page of newer items, or None on the first page.
    newer: Cursor | None

    @property
    def first(self) -> bool:
        return self.newer is None


def keyset_page(session: Session, query: Select[Unpack[tuple[Any, ...]]], *, at: InstrumentedAttribute[datetime],
                id_: InstrumentedAttribute[int], key: Callable[[Any], Cursor], per_page: int,
                older_than: Cursor | None = None, newer_than: Cursor | None = None,
                scalars: bool = True) -> Page[Any]:
    """A page of `query` ordered by (`at`, `id_`) newest first: older than one cursor, or newer than one.

    `key` gives an item's cursor. One query of `per_page` + 1 rows; the extra row only says
    whether there is more in the direction read.
    """
    if newer_than is not None:
        bound = newer_than
        query = query.where(at >= bound.at, or_(at > bound.at, id_ > bound.id)).order_by(at.asc(), id_.asc())
    else:
        query = query.order_by(at.desc(), id_.desc())
        if older_than is not None:
            query = query.where(and_(at <= older_than.at, or_(at < older_than.at, id_ < older_than.id)))
    result = session.execute(query.limit(per_page + 1))
    rows = list(result.scalars().unique() if scalars else result)
    more = len(rows) > per_page
    rows = rows[:per_page]
    if newer_than is not None:
        rows.reverse()
        # Read towards the newest: more rows that way means a newer page exists; an older one
        # always does (the cursor we came from).
        return Page(rows, older=key(rows[-1]) if rows else newer_than, newer=key(rows[0]) if rows and more else None)
    return Page(rows, older=key(rows[-1]) if rows and more else None,
                newer=key(rows[0]) if rows and older_than is not None else None)
