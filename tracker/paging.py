"""Pages of longer lists, with the total count."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(session: Session, query: Select[Any], number: int, per_page: int) -> Page[Any]:
    """Run `query` for page `number` (from 1; past the end, the last page), with the total count of matching rows."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    # Clamped before it becomes an OFFSET: ?page=99999999999999999999 overflowed the database's integer.
    number = min(max(1, number), max(1, -(-total // per_page)))
    items = list(session.scalars(query.limit(per_page).offset((number - 1) * per_page)).unique())
    return Page(items, number, per_page, total)

