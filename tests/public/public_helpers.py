"""Helpers for the public-page tests: demo data in the app's database, one address per coin, HTML reading.

Fixtures live in tests/public/conftest.py (the demo site) and tests/conftest.py (add_method).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from factories import load_vectors

from tracker.audit import Actor

CLI = Actor.cli()


def mainnet_addresses() -> dict[str, str]:
    """One valid mainnet address per coin, taken from the standards' own vector files."""
    return {
        "BTC": next(v["address"] for v in load_vectors("bitcoin_key_io.json")["valid_addresses"]
                    if v["chain"] == "main" and v["encoding"] != "base58check"),
        "BCH": load_vectors("cashaddr.json")["legacy_translation"][0]["cashaddr"],
        "LTC": next(v["address"] for v in load_vectors("litecoin_key_io.json")["valid_addresses"]
                    if v["chain"] == "main"),
        "DOGE": next(v["address"] for v in load_vectors("dogecoin_base58.json")["valid_addresses"]
                     if not v["isTestnet"]),
        "ETH": load_vectors("eip55.json")["valid_checksummed"][0]["address"],
        "XMR": next(v["address"] for v in load_vectors("monero.json")["valid_addresses"]
                    if v["network"] == "mainnet" and v["type"] == "standard"),
    }



@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class ParsedPage(HTMLParser):
    """The elements of an HTML page with their attributes and the text inside each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in ("img", "link", "meta", "br", "input", "rect", "line", "path"):
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def find(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [e for e in self.elements if (tag is None or e.tag == tag)
                and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, element_id: str) -> Element:
        (element,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return element


def parse_html(html: bytes | str) -> ParsedPage:
    page = ParsedPage()
    page.feed(html.decode() if isinstance(html, bytes) else html)
    page.close()
    return page


def page_text(html: bytes | str) -> str:
    """What a reader sees, whitespace collapsed (tags dropped, entities decoded)."""
    page = ParsedPage()
    chunks: list[str] = []
    page.handle_data = chunks.append  # type: ignore[method-assign]
    page.feed(html.decode() if isinstance(html, bytes) else html)
    return " ".join(" ".join(chunks).split())
