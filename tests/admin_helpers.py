"""Helpers shared by the back-office tests: known addresses, reading tokens and field errors."""

from __future__ import annotations

import re

BTC_OLD = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
BTC_NEW = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
#: BTC_NEW with its last character changed: the Base58Check checksum fails.
BTC_TYPO = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"



def csrf_token(html: bytes) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        rb'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


def field_errors(html: bytes, field_id: str) -> str:
    """The error text shown next to a field (by its id), or ""."""
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-error">(.*?)</ul>'.encode(), html, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1).decode()).strip() if match else ""
