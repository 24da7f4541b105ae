"""What admins copy or look at: embed codes, QR data URIs, the daily-totals chart's geometry."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import quote

from ..money import Money
from ..qr import qr_svg
from ..reports import DayTotal


def qr_data_uri(text: str) -> str:
    """An SVG QR code of `text` as a data: URI (the admin CSP allows `img-src data:`)."""
    svg = qr_svg(text, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


@dataclass(frozen=True)
class EmbedCode:
    key: str
    label: str
    code: str


def embed_codes(base_url: str, slug: str, title: str) -> list[EmbedCode]:
    """Ready-to-paste snippets for every way the widget can be embedded."""
    base = base_url.rstrip("/")
    path = quote(slug)
    alt = title.replace("[", "").replace("]", "")
    # Kept in step by hand with the widget's own snippets (templates/widget/_embed_macros.html).
    return [
        EmbedCode("iframe", "HTML (iframe)",
                  f'<iframe class="reader-support-widget" src="{base}/widget/{path}" title="{_attr(title)}" '
                  f'width="360" height="196" frameborder="0" loading="lazy"></iframe>'),
        EmbedCode("script", "Script (Shadow DOM)",
                  f'<script src="{base}/embed.js" async></script>\n<div data-tracker-campaign="{path}"></div>'),
        EmbedCode("image", "Image (HTML)",
                  f'<a href="{base}/c/{path}"><img src="{base}/widget/{path}.svg" alt="{_attr(title)}" '
                  f'width="360" height="108"></a>'),
        EmbedCode("json", "JSON URL", f"{base}/api/v1/campaigns/{path}"),
        EmbedCode("markdown", "Markdown image", f"[![{alt}]({base}/widget/{path}.svg)]({base}/c/{path})"),
    ]


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    total: Money


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    maximum: Money | None
    first_label: str
    last_label: str


def daily_chart(totals: Sequence[DayTotal], width: int = 640, height: int = 160) -> Chart | None:
    """Bar geometry for an SVG chart of daily totals; negative adjustments hang below the baseline."""
    if not totals:
        return None
    values = [t.total.minor for t in totals]
    top, bottom = max(max(values), 0), min(min(values), 0)
    span = (top - bottom) or 1
    plot = height - 4
    baseline = 2 + plot * top / span
    slot = width / len(totals)
    bars = []
    for index, item in enumerate(totals):
        size = plot * abs(item.total.minor) / span
        y = baseline - size if item.total.minor >= 0 else baseline
        bars.append(Bar(round(index * slot + slot * 0.1, 2), round(y, 2), round(slot * 0.8, 2), round(size, 2),
                        item.day.isoformat(), item.total))
    currency = totals[0].total.currency
    return Chart(width, height, round(baseline, 2), bars, Money(top, currency) if top else None,
                 totals[0].day.isoformat(), totals[-1].day.isoformat())


def minor_money(minor: int, currency: str) -> str:
    """Template filter: an amount stored in minor units, with every decimal place shown."""
    from flask_babel import get_locale

    return Money(minor, currency).format(str(get_locale() or "en"), trim_whole=False)
