"""The dashboard's chart of daily totals: bar geometry for a server-drawn SVG."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..donations.queries import DailyTotal
from ..money import Money


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


def daily_chart(totals: Sequence[DailyTotal], width: int = 640, height: int = 160) -> Chart | None:
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

