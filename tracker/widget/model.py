"""The widget's view model: every figure and text the widget forms show, formatted for one locale."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ..campaigns.progress import Bar, Progress, Tick, percent_label, period_label
from ..models import Campaign
from ..money import Money, format_money
from .colours import PALETTES, Palette
from .options import DISPLAY_DEFAULTS, WidgetOptions


class Translations(Protocol):
    """What the widget needs from a catalog (babel.support.Translations and NullTranslations fit)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class WidgetModel:
    slug: str
    title: str
    options: WidgetOptions
    support_url: str
    target: Money
    raised: Money
    pending: Money
    percent: Decimal
    #: Fill, pending segment and ticks: the same geometry as every other bar of this campaign.
    bar: Bar
    #: The ticks' amounts formatted for the locale, in the order of `bar.ticks`.
    tick_labels: tuple[str, ...]
    raised_text: str
    goal_text: str
    pending_text: str
    percent_text: str
    valuetext: str
    valuenow: str
    valuemax: str
    #: Where the raised label sits against its x position: "start", "middle" or "end".
    raised_anchor: str
    period_text: str
    days_left: int | None
    days_left_text: str
    donors: int
    donors_text: str
    cta_text: str
    button_text: str
    show_donors: bool
    show_days_left: bool
    show_pending: bool
    #: "Goal reached, thank you!" or "$2,840 still to go".
    status_text: str = ""
    goal_reached: bool = False
    remaining: Money | None = None
    #: "Readers of this article gave $120" (`?ref=…&show=article`), else "".
    article_text: str = ""

    @property
    def fill(self) -> Decimal:
        """Width of the fill, 0 to 100 (percent can pass 100; the bar cannot)."""
        return self.bar.fill

    @property
    def labelled_ticks(self) -> tuple[tuple[Tick, str], ...]:
        """Each tick with its formatted amount."""
        return tuple(zip(self.bar.ticks, self.tick_labels, strict=True))

    @property
    def palette(self) -> Palette:
        return PALETTES["dark" if self.options.theme == "dark" else "light"]

    @property
    def caption(self) -> str:
        """Period and days left, for the images' bottom line (what an article's readers gave, when asked)."""
        if self.article_text:
            return self.article_text
        parts = [self.period_text, self.days_left_text if self.show_days_left else "", self.status_text]
        return " · ".join(part for part in parts if part)

    @property
    def meta_text(self) -> str:
        """Period, days left, supporters and how far to go, joined as one line."""
        parts = [self.period_text]
        if self.show_days_left:
            parts.append(self.days_left_text)
        if self.show_donors:
            parts.append(self.donors_text)
        if self.show_pending and self.pending:
            parts.append(self.pending_text)
        parts.append(self.status_text)
        return " · ".join(part for part in parts if part)


def _plain_number(money: Money) -> str:
    return format(money.to_decimal().normalize(), "f")


def build_widget(campaign: Campaign, progress: Progress, options: WidgetOptions, translations: Translations,
                 support_url: str) -> WidgetModel:
    """Everything the widget forms show, from a campaign and its progress, for one locale."""
    locale, gettext, ngettext = options.locale, translations.gettext, translations.ngettext
    display = {**DISPLAY_DEFAULTS, **(campaign.display or {})}

    def fmt(money: Money) -> str:
        return format_money(money, locale)

    raised_text, goal_text = fmt(progress.raised), fmt(progress.target)
    percent_text = percent_label(progress.percent, locale)
    bar = progress.bar
    days = progress.days_left
    clamped = min(max(progress.raised, Money.zero(progress.raised.currency)), progress.target)
    return WidgetModel(
        slug=campaign.slug,
        title=campaign.text("title", locale),
        options=options,
        support_url=support_url,
        target=progress.target,
        raised=progress.raised,
        pending=progress.pending,
        percent=progress.percent,
        bar=bar,
        tick_labels=tuple(fmt(tick.amount) for tick in bar.ticks),
        raised_text=raised_text,
        goal_text=goal_text,
        pending_text=gettext("%(amount)s pending") % {"amount": fmt(progress.pending)},
        percent_text=percent_text,
        valuetext=gettext("%(raised)s of %(goal)s, %(percent)s") % {
            "raised": raised_text, "goal": goal_text, "percent": percent_text},
        valuenow=_plain_number(clamped),
        valuemax=_plain_number(progress.target),
        raised_anchor="start" if bar.fill < 12 else "end" if bar.fill > 88 else "middle",
        period_text=period_label(progress.period, progress.period_start, campaign.timezone, locale),
        days_left=days,
        days_left_text="" if days is None else ngettext("%(num)d day left", "%(num)d days left", days) % {"num": days},
        donors=progress.donors,
        donors_text=ngettext("%(num)d supporter", "%(num)d supporters", progress.donors) % {"num": progress.donors},
        cta_text=gettext("Do you like this content? Consider helping us!"),
        button_text=gettext("Support us"),
        show_donors=bool(display["show_donors"]),
        show_days_left=bool(display["show_days_left"]),
        show_pending=bool(display["show_pending"]),
        status_text=goal_status(progress, fmt, gettext),
        goal_reached=progress.reached_goal,
        remaining=progress.remaining,
    )


def goal_status(progress: Progress, fmt: Any, gettext: Any) -> str:
    """"Goal reached, thank you!" (with what went beyond it) or "$2,840 still to go"."""
    # The same message ids as the support page's bar (templates/macros/progress.html).
    if not progress.reached_goal:
        return gettext("%(amount)s still to go") % {"amount": fmt(progress.remaining)}
    if progress.over_goal.minor > 0:
        return gettext("Goal reached, thank you! %(amount)s beyond it") % {"amount": fmt(progress.over_goal)}
    return gettext("Goal reached, thank you!")


def widget_document(model: WidgetModel, campaign: Campaign, progress: Progress) -> dict[str, Any]:
    """The JSON form: exact money as decimal strings plus minor units, never floats."""

    def money(value: Money) -> dict[str, Any]:
        return {"amount": value.plain(), "minor": value.minor, "currency": value.currency}

    def moment(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    updated = max(filter(None, (campaign.updated_at, progress.updated_at)))
    return {
        "slug": campaign.slug,
        "title": model.title,
        "description": campaign.text("description", model.options.locale),
        "status": campaign.status,
        "currency": campaign.currency,
        "goal": money(progress.target),
        "raised": money(progress.raised),
        "pending": money(progress.pending),
        "percent": str(progress.percent),
        "donors": progress.donors,
        "goal_reached": progress.reached_goal,
        "remaining": money(progress.remaining),
        "milestones": [{"amount": money(m.amount), "label": m.label, "reached": m.reached}
                       for m in progress.milestones],
        "period": {"kind": progress.period, "start": moment(progress.period_start),
                   "end": moment(progress.period_end), "days_left": progress.days_left},
        "url": model.support_url,
        "locale": model.options.locale,
        "formatted": {
            "goal": model.goal_text,
            "raised": model.raised_text,
            "pending": model.pending_text,
            "percent": model.percent_text,
            "valuetext": model.valuetext,
            "period": model.period_text,
            "days_left": model.days_left_text,
            "donors": model.donors_text,
            "status": model.status_text,
            "meta": model.meta_text,
            "cta": model.cta_text,
            "button": model.button_text,
            "ticks": [{"position": str(t.position), "label": label, "kind": t.kind, "title": t.title}
                      for t, label in model.labelled_ticks],
        },
        "updated_at": moment(updated),
    }

