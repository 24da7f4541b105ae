"""Rendered answers kept per version, and the one function that builds every cache key and ETag."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable


def etag_for(key: tuple[Hashable, ...]) -> str:
    """A strong entity tag (without quotes) for a render key."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


class RenderCache:
    """A small thread-safe LRU of rendered responses, keyed by their version tuple."""

    # Safe with many worker processes: the key holds the campaign's and its period total's
    # updated_at (read from the database on every request), so a donation recorded by any
    # worker changes the key everywhere; an old entry is never served, only left to age out.

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = render()  # outside the lock: two threads may render once each, harmlessly
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> Any | None:
        """The value kept for `key`, or None; never renders."""
        with self._lock:
            return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)

