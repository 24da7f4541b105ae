"""A per-process memo of whole widget and API answers, kept for `widget.process_cache_seconds`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

# Why a memo at all: a widget answer from the render cache still costs one indexed query (the
# campaign's version) plus the locale, the ETag and the headers, about 100 µs on top of
# Flask's own floor (docs/performance.md). Embedding sites send the same few URLs over and
# over, so remembering the finished answer for a second lets nearly every request skip all
# of that. The price is staleness: an answer may be up to `ttl` seconds old when it leaves
# this process, which is why the app sends `max-age = widget.max_age - ttl` (see http.py).


@dataclass(frozen=True, slots=True)
class Memoised:
    """One remembered answer: enough to send a 200 or a 304 without the database."""

    #: The ETag header value, quoted.
    etag: str
    #: None when only the ETag is known (the answer was a 304 and no rendering was at hand).
    body: bytes | None
    content_type: str
    headers: tuple[tuple[str, str], ...]
    #: clock() value after which the entry is not used.
    expires: float
    #: local_writes() when the request that made it began.
    writes: int


class ResponseMemo:
    """A bounded, thread-safe map of request keys to answers, each valid for `ttl` seconds."""

    # Reads take no lock: a dict lookup is atomic, and entries are immutable. Writers hold
    # the lock so eviction never races another insertion. Eviction is oldest-inserted first:
    # a hot key is re-inserted every `ttl` seconds anyway, so insertion order tracks use
    # closely enough without paying for LRU bookkeeping on every hit.

    def __init__(self, ttl: float, size: int = 2048, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._items: dict[Hashable, Memoised] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: float) -> Memoised | None:
        """The fresh entry for `key`, else None."""
        entry = self._items.get(key)
        if entry is None or entry.expires <= now or entry.writes != _writes[0]:
            return None
        return entry

    def stale(self, key: Hashable) -> Memoised | None:
        """The entry kept for `key` however old: the last good answer, while the database is away."""
        return self._items.get(key)

    def put(self, key: Hashable, entry: Memoised) -> None:
        """Remember `entry` (replacing any older one), evicting the oldest beyond `size`."""
        with self._lock:
            self._items.pop(key, None)  # re-inserting moves the key to the young end
            self._items[key] = entry
            while len(self._items) > self.size:
                del self._items[next(iter(self._items))]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# ---------------------------------------------------------------------------------------------
# Writes committed by this very process end every memo entry at once. Other worker processes
# catch up within `ttl`, which the Cache-Control arithmetic allows for; but the admin who has
# just recorded a donation (or a webhook, or a CLI command) in this process should see it on
# the next widget request here, not a second later. Only the count is shared, never data.

_writes = [0]
_writes_lock = threading.Lock()
_WROTE = "tracker_widget_wrote"


def local_writes() -> int:
    """How many writing transactions this process has committed (through ORM sessions)."""
    return _writes[0]


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    # insert(), update() and delete() statements run through session.execute bypass the flush.
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # Counted after the commit, when the new rows are visible: a request that starts after
    # this sees both the new count and the new data; one that started before is stamped
    # with the old count, so its entry is never used.
    if session.info.pop(_WROTE, False):
        with _writes_lock:
            _writes[0] += 1
