"""Query-string values the pages share: the cursors of a page of a list (`?older=` / `?newer=`)."""

from __future__ import annotations

from flask import request

from ..paging import Cursor

#: A cursor longer than this is not one of ours (an ISO time, "~" and an id fit in 60).
MAX_CURSOR = 80


def page_cursors() -> tuple[Cursor | None, Cursor | None]:
    """(older_than, newer_than) from `?older=` or `?newer=`; InvalidQuery for an edited link."""
    found: list[Cursor | None] = []
    for name in ("older", "newer"):
        text = request.args.get(name)
        found.append(Cursor.parse(text[:MAX_CURSOR + 1]) if text else None)
    return found[0], found[1]
