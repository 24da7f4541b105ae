"""Query-string values the pages share: `?page=`."""
from __future__ import annotations

from ..errors import InvalidQuery

#: How many pages a `?page=` may ask for; more digits than this is not a page number.
_MAX_PAGE_DIGITS = 9


def parse_page(text: str | None) -> int:
    """A `?page=` value as a page number from 1, or InvalidQuery."""
    if text is None:
        return 1
    text = text.strip()
    if not text.isdecimal() or not text.isascii() or len(text) > _MAX_PAGE_DIGITS or int(text) < 1:
        raise InvalidQuery("the page number must be a whole number from 1")
    return int(text)

