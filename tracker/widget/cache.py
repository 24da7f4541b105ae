"""Rendered answers kept per version; the functions that build every cache key and ETag.

Two kinds of key, each built in one place:

* an answer's key (`answer_key`) names what a rendering depends on: the kind of answer, the
  campaign versions, the options it uses, anything else (a script's digest). It keys the
  render cache, and its hash is the ETag, so equal keys mean byte-identical answers;
* a request's keys (`request_keys`) name what the per-process memo may answer without the
  database: the endpoint, the path, the query (as sent and decoded), the language header.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from operator import itemgetter
from typing import Any, Callable, Hashable, Iterable, Sequence

from .options import WidgetOptions
from .versions import CampaignVersion

_name = itemgetter(0)


def answer_key(kind: str, *, versions: Sequence[CampaignVersion] = (), options: WidgetOptions | None = None,
               extra: Sequence[Hashable] = ()) -> tuple[Hashable, ...]:
    """The key of one rendered answer: its kind, the campaign versions, its options and any extra part.

    `options` must already be the ones the answer uses (`WidgetOptions.for_output`), so that
    options an output ignores never make a second rendering of the same bytes.
    """
    parts: list[Hashable] = [kind]
    for version in versions:
        parts.extend(version.key())
    if options is not None:
        parts.extend((options.variant, options.theme, options.accent, options.locale))
    parts.extend(extra)
    return tuple(parts)


def etag_for(key: tuple[Hashable, ...]) -> str:
    """A strong entity tag (without quotes) for an answer's key."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def request_keys(endpoint: str, path: str, query_string: str, args: Iterable[tuple[str, str]],
                 language: str | None) -> tuple[tuple[Hashable, ...], tuple[Hashable, ...]]:
    """(exact, canonical): a request's keys in the memo, from everything that shapes its answer."""
    # The path holds the view arguments (the slug, the extension); the language header counts
    # for the routes that follow it (None for the others), raw: choosing a locale costs more
    # than a few extra entries. The exact key holds the raw query string: one embed snippet
    # sends the same bytes on every page view, and comparing them needs no parsing. The
    # canonical key holds the query decoded and sorted by name, values in their given order,
    # so that `?a=1&b=2` and `?b=2&a=1` share an answer while `?variant=bar&variant=cta` and
    # its reverse do not (the views take the first value).
    return exact_request_key(endpoint, path, query_string, language), (
        endpoint, path, tuple(sorted(args, key=_name)), language)


def exact_request_key(endpoint: str, path: str, query_string: str, language: str | None) -> tuple[Hashable, ...]:
    """The memo key of a request as sent, found without decoding its query."""
    return (endpoint, path, query_string, language)


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

