"""The dashboard's chart of daily totals: bar geometry, a value axis and date labels for a server-drawn SVG."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton

from ..donations.queries import DailyTotal
from ..money import Money, format_money

#: The labels' size in the drawing's units: the 640-unit drawing shows at about half size in a
#: dashboard card, so they read at about 10 px.
FONT_SIZE = 20
#: Roughly how wide one character of a label is, to leave room for the longest amount.
CHAR_WIDTH = FONT_SIZE * 0.6
#: Room for the date labels under the bars and for the top tick's label above the plot.
BOTTOM_MARGIN, TOP_MARGIN, RIGHT_MARGIN = FONT_SIZE + 10, FONT_SIZE // 2 + 2, 8
#: The value axis has about this many steps; the date axis at most this many labels.
VALUE_STEPS, MAX_DATE_LABELS = 4, 5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    #: The day as ISO 8601 text (the table and the bar's tooltip).
    label: str
    total: Money
    #: The day's "set raised to" adjustments: listed in the table, never drawn as gifts.
    adjusted: Money | None = None


@dataclass(frozen=True)
class Tick:
    """A gridline of the value axis: where it is drawn and the amount it marks, formatted."""

    y: float
    amount: Money
    text: str


@dataclass(frozen=True)
class DayLabel:
    """A date under the bars ("Nov 2", "2. Nov."), centred on its bar unless that would leave the chart."""

    x: float
    text: str
    anchor: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    #: The best day's total (None when no day had a gift) and the first such day.
    maximum: Money | None
    first_label: str
    last_label: str
    ticks: list[Tick]
    days: list[DayLabel]
    #: Where the plot starts (left of it: the amounts) and where the date labels sit.
    plot_left: float
    plot_right: float
    date_y: float
    font_size: int = FONT_SIZE
    best_day: str = ""
    total: Money | None = None

    @property
    def has_adjustments(self) -> bool:
        return any(bar.adjusted for bar in self.bars)


def nice_step(span: int, steps: int = VALUE_STEPS) -> int:
    """The gridline step, in minor units, for a span: 1, 2 or 5 times a power of ten, about span/steps."""
    raw = max(span, 1) / steps
    power = 10 ** max(int(math.floor(math.log10(raw))), 0)
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def day_text(day: date, locale: str = "en") -> str:
    """A short date for an axis in the reader's language: "Nov 2" (en), "2. Nov." (de)."""
    return format_skeleton("MMMd", day, locale=_locale(locale))


def daily_chart(totals: Sequence[DailyTotal], width: int = 640, height: int = 160,
                locale: str = "en") -> Chart | None:
    """Bar geometry with a value axis (amounts in the goal currency) and date labels, for an SVG chart.

    The bars are the gifts of each day; "set raised to" adjustments are not gifts and are not drawn.
    """
    if not totals:
        return None
    currency = totals[0].total.currency
    values = [t.total.minor for t in totals]
    top, bottom = max(max(values), 0), min(min(values), 0)
    step = nice_step(top - bottom)
    axis_top = max(math.ceil(top / step), 1) * step
    axis_bottom = math.floor(bottom / step) * step
    tick_values = list(range(axis_bottom, axis_top + 1, step))
    tick_texts = [format_money(Money(value, currency), locale) for value in tick_values]
    plot_left = round(max(len(text) for text in tick_texts) * CHAR_WIDTH + FONT_SIZE / 2, 2)
    plot_right = width - RIGHT_MARGIN
    plot_top, plot_bottom = TOP_MARGIN, height - BOTTOM_MARGIN
    span = axis_top - axis_bottom

    def y_of(value: int) -> float:
        return round(plot_top + (plot_bottom - plot_top) * (axis_top - value) / span, 2)

    baseline = y_of(0)
    slot = (plot_right - plot_left) / len(totals)
    bars = []
    for index, item in enumerate(totals):
        y = y_of(max(item.total.minor, 0))
        size = round(abs(y_of(item.total.minor) - baseline), 2)
        bars.append(Bar(round(plot_left + index * slot + slot * 0.1, 2), y if item.total.minor >= 0 else baseline,
                        round(slot * 0.8, 2), size, item.day.isoformat(), item.total, item.adjusted))
    ticks = [Tick(y_of(value), Money(value, currency), text)
             for value, text in zip(tick_values, tick_texts, strict=True)]
    # Counted back from today, so the latest day always has its date and no two labels crowd.
    every = math.ceil(len(totals) / MAX_DATE_LABELS)
    shown = sorted(range(len(totals) - 1, -1, -every))
    days = []
    for index in shown:
        centre = plot_left + (index + 0.5) * slot
        text = day_text(totals[index].day, locale)
        half = len(text) * CHAR_WIDTH / 2
        anchor = "end" if centre + half > width else "start" if centre - half < plot_left - 4 else "middle"
        x = width - 1 if anchor == "end" else centre
        days.append(DayLabel(round(x, 2), text, anchor))
    best = max(totals, key=lambda t: t.total.minor)
    return Chart(width, height, baseline, bars, best.total if top else None,
                 totals[0].day.isoformat(), totals[-1].day.isoformat(), ticks, days,
                 plot_left, plot_right, height - 6, FONT_SIZE,
                 best_day=day_text(best.day, locale) if top else "",
                 total=Money(sum(values), currency))
