"""Embeddable progress widgets: options, cheap version lookups, the view model, SVG and PNG rendering."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from html import escape
from typing import Any, Callable, Hashable, Mapping, Protocol
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from sqlalchemy import Engine

from .campaigns import DISPLAY_DEFAULTS, HEX_COLOUR, SLUG
from .errors import NotFound
from .models import Campaign, PeriodTotal
from .money import Money, format_money
from .progress import ONCE_KEY, Progress, day_bounds, period_label, period_window

VARIANTS = ("bar", "card", "cta")
THEMES = ("light", "dark", "auto")
DEFAULT_VARIANT = "card"

#: Suggested iframe sizes (CSS pixels) per variant: used by embed snippets and oEmbed.
VARIANT_SIZES: dict[str, tuple[int, int]] = {"bar": (360, 84), "card": (360, 196), "cta": (360, 176)}

#: SVG/PNG canvas in CSS pixels; the PNG is drawn at PNG_SCALE for sharp text on dense screens.
IMAGE_WIDTH, IMAGE_HEIGHT, PNG_SCALE = 360, 108, 2


class Translations(Protocol):
    """What the widget needs from a catalog (babel.support.Translations and NullTranslations fit)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


# ---------------------------------------------------------------------------------------------
# Colours: the palettes and the WCAG arithmetic that proves they are readable.

@dataclass(frozen=True)
class Palette:
    background: str
    text: str
    muted: str
    track: str
    #: Fill colour when the campaign's accent is the default (dark needs a lighter blue).
    accent: str


PALETTES = {
    "light": Palette(background="#ffffff", text="#1f2328", muted="#57606a", track="#d0d7de", accent="#1f6feb"),
    "dark": Palette(background="#0d1117", text="#e6edf3", muted="#9da7b3", track="#30363d", accent="#4493f8"),
}


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    channels = []
    for index in (1, 3, 5):
        value = int(colour[index:index + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours (1 to 21)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (always at least 4.5:1)."""
    return "#000000" if contrast_ratio(background, "#000000") >= contrast_ratio(background, "#ffffff") else "#ffffff"


# ---------------------------------------------------------------------------------------------
# Options from the query string: anything invalid silently becomes the default, so nothing a
# visitor typed into a URL ever reaches the page.

@dataclass(frozen=True)
class WidgetOptions:
    variant: str
    theme: str
    #: Validated #rrggbb, lower-case.
    accent: str
    locale: str


def widget_options(query: Mapping[str, str], display: Mapping[str, Any] | None, locale: str) -> WidgetOptions:
    """Options from the query, else the campaign's display settings, else the defaults."""
    defaults = {**DISPLAY_DEFAULTS, **(display or {})}
    variant = query.get("variant", "")
    theme = query.get("theme", "")
    accent = query.get("accent", "")
    if accent and not accent.startswith("#"):
        accent = "#" + accent  # "accent=ff8800" saves site owners from URL-encoding the "#"
    if theme not in THEMES:
        theme = defaults["theme"] if defaults.get("theme") in THEMES else "light"
    if not HEX_COLOUR.fullmatch(accent):
        fallback = str(defaults.get("accent") or "")
        accent = fallback if HEX_COLOUR.fullmatch(fallback) else DISPLAY_DEFAULTS["accent"]
    return WidgetOptions(variant=variant if variant in VARIANTS else DEFAULT_VARIANT, theme=theme,
                         accent=accent.lower(), locale=locale)


# ---------------------------------------------------------------------------------------------
# The version of what a widget shows, in one indexed query, for ETags and the render cache.

@dataclass(frozen=True)
class CampaignVersion:
    """Everything a widget's content depends on, short of loading the campaign."""

    id: int
    slug: str
    period: str
    timezone: str
    display: Mapping[str, Any] = field(compare=False, hash=False)
    #: The campaign's updated_at as the database returns it (edits, milestones, status).
    changed: str
    #: updated_at of the newest period total that has begun ("" before the first donation).
    total_changed: str
    period_key: datetime
    #: Today in the campaign's zone: days left change at its midnight.
    today: date

    def key(self) -> tuple[Hashable, ...]:
        return (self.id, self.slug, self.changed, self.total_changed, self.period_key.isoformat(),
                self.today.isoformat())


#: The version lookup, written out: it runs on every widget request of every embedding site,
#: where building and compiling a SQLAlchemy statement costs ten times the query itself. The
#: subquery reads the newest period total that has begun, which is the current period's row
#: once it exists, so a donation to the current period always changes it; both parts are
#: index seeks (campaign.slug is unique; period_total's key is (campaign_id, period_start)).
_VERSION_SQL = (
    "SELECT c.id, c.slug, c.period, c.timezone, c.display, c.updated_at, "
    "(SELECT t.updated_at FROM period_total t WHERE t.campaign_id = c.id AND t.period_start <= {now} "
    "ORDER BY t.period_start DESC LIMIT 1) "
    "FROM campaign c WHERE {where}"
)
_ONE = "c.slug = {slug} AND c.status <> 'draft'"
_ACTIVE = "c.status = 'active' ORDER BY c.created_at, c.id"
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "named": ":{}", "pyformat": "%({})s"}


class VersionReader:
    """Reads campaign versions with one statement straight through the driver."""

    # Building and compiling a SQLAlchemy statement in an ORM session would cost several
    # times the query itself, on every widget request of every embedding site. The statement
    # still goes to the engine's before/after_cursor_execute listeners, so logging, tracing
    # and the tests that count statements see it like any other.

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        style = engine.dialect.paramstyle
        if style not in _PLACEHOLDERS:
            raise ValueError(f"unsupported driver parameter style {style!r}")
        self._named = style in ("named", "pyformat")
        mark = _PLACEHOLDERS[style]
        now, slug = mark.format("now"), mark.format("slug")
        self._one_sql = _VERSION_SQL.format(now=now, where=_ONE.format(slug=slug))
        self._active_sql = _VERSION_SQL.format(now=now, where=_ACTIVE)
        # The column type's own conversion: SQLite stores timestamps as text in a set format.
        self._bind_now = PeriodTotal.__table__.c.period_start.type.bind_processor(engine.dialect) or (lambda v: v)

    def _rows(self, sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        params: Any = values if self._named else tuple(values.values())
        # The pooled connection is used below SQLAlchemy's transaction layer: SQLite runs the
        # lone SELECT in autocommit mode (see db.py); a driver-begun transaction (PostgreSQL)
        # is rolled back when the connection goes back to the pool.
        with self._engine.connect() as connection:
            cursor = connection.connection.cursor()
            try:
                connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                connection.dispatch.after_cursor_execute(connection, cursor, sql, params, None, False)
            finally:
                cursor.close()
        return rows

    def one(self, slug: str, now: datetime) -> CampaignVersion:
        """The version of public campaign `slug`, or NotFound."""
        if not SLUG.fullmatch(slug):
            raise NotFound(f"there is no campaign {slug!r}")
        rows = self._rows(self._one_sql, {"now": self._bind_now(now), "slug": slug})
        if not rows:
            raise NotFound(f"there is no campaign {slug!r}")
        return _version(rows[0], now)

    def active(self, now: datetime) -> tuple[CampaignVersion, ...]:
        """Versions of every active campaign, in list order."""
        return tuple(_version(row, now) for row in self._rows(self._active_sql, {"now": self._bind_now(now)}))


#: (period, zone) -> (valid from, valid until, period key, local date): pure calendar arithmetic,
#: reused while `now` stays inside the same local day (and so the same period).
_CALENDAR: dict[tuple[str, str], tuple[datetime, datetime, datetime, date]] = {}


def _calendar(period: str, tz: str, now: datetime) -> tuple[datetime, date]:
    """The period key and the local date at `now` for a campaign's period and zone."""
    known = _CALENDAR.get((period, tz))
    if known is not None and known[0] <= now < known[1]:
        return known[2], known[3]
    today = now.astimezone(ZoneInfo(tz)).date()
    day_start, day_end = day_bounds(today, tz)
    window = period_window(period, tz, now)
    _CALENDAR[(period, tz)] = (day_start, day_end, ONCE_KEY if window is None else window[0], today)
    return _CALENDAR[(period, tz)][2], today


def _version(row: tuple[Any, ...], now: datetime) -> CampaignVersion:
    campaign_id, slug, period, tz, display, changed, total_changed = row
    if isinstance(display, str):  # SQLite hands JSON back as text; psycopg decodes it
        display = json.loads(display)
    key, today = _calendar(period, tz, now)
    return CampaignVersion(
        id=campaign_id, slug=slug, period=period, timezone=tz, display=display or {}, changed=str(changed),
        total_changed="" if total_changed is None else str(total_changed), period_key=key, today=today)


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


# ---------------------------------------------------------------------------------------------
# The view model: every figure and text a widget shows, formatted for one locale.

@dataclass(frozen=True)
class Tick:
    #: Position along the bar, 0 to 100.
    position: Decimal
    label: str
    #: "start", "milestone" or "goal".
    kind: str
    #: The milestone's label ("Halfway: hosting is paid"), empty for start and goal.
    title: str = ""


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
    #: Width of the fill, 0 to 100 (percent can pass 100; the bar cannot).
    fill: Decimal
    raised_text: str
    goal_text: str
    pending_text: str
    percent_text: str
    valuetext: str
    valuenow: str
    valuemax: str
    #: Where the raised label sits against its x position: "start", "middle" or "end".
    raised_anchor: str
    ticks: tuple[Tick, ...]
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

    @property
    def palette(self) -> Palette:
        return PALETTES["dark" if self.options.theme == "dark" else "light"]

    @property
    def caption(self) -> str:
        """Period and days left, for the images' bottom line."""
        parts = [self.period_text, self.days_left_text if self.show_days_left else ""]
        return " · ".join(part for part in parts if part)

    @property
    def meta_text(self) -> str:
        """Period, days left and supporters, joined as one line."""
        parts = [self.period_text]
        if self.show_days_left:
            parts.append(self.days_left_text)
        if self.show_donors:
            parts.append(self.donors_text)
        if self.show_pending and self.pending:
            parts.append(self.pending_text)
        return " · ".join(part for part in parts if part)


def _plain_number(money: Money) -> str:
    return format(money.to_decimal().normalize(), "f")


def _position(amount: Money, target: Money) -> Decimal:
    position = Decimal(amount.minor * 100) / Decimal(target.minor)
    return min(max(position, Decimal(0)), Decimal(100)).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


def build_widget(campaign: Campaign, progress: Progress, options: WidgetOptions, translations: Translations,
                 support_url: str) -> WidgetModel:
    """Everything the widget forms show, from a campaign and its progress, for one locale."""
    locale, gettext, ngettext = options.locale, translations.gettext, translations.ngettext
    display = {**DISPLAY_DEFAULTS, **(campaign.display or {})}
    fmt = lambda money: format_money(money, locale)  # noqa: E731 - a short local alias
    raised_text, goal_text = fmt(progress.raised), fmt(progress.target)
    whole_percent = progress.percent.to_integral_value(rounding=ROUND_FLOOR)
    percent_text = format_percent(whole_percent / 100, locale=locale)
    fill = _position(progress.raised, progress.target)
    ticks = [Tick(Decimal(0), fmt(Money.zero(progress.target.currency)), "start")]
    for milestone in progress.milestones:
        if milestone.amount < progress.target:
            ticks.append(Tick(_position(milestone.amount, progress.target), fmt(milestone.amount),
                              "milestone", milestone.label))
    ticks.append(Tick(Decimal(100), goal_text, "goal"))
    days = progress.days_left
    clamped = min(max(progress.raised, Money.zero(progress.raised.currency)), progress.target)
    return WidgetModel(
        slug=campaign.slug,
        title=campaign.title,
        options=options,
        support_url=support_url,
        target=progress.target,
        raised=progress.raised,
        pending=progress.pending,
        percent=progress.percent,
        fill=fill,
        raised_text=raised_text,
        goal_text=goal_text,
        pending_text=gettext("%(amount)s pending") % {"amount": fmt(progress.pending)},
        percent_text=percent_text,
        valuetext=gettext("%(raised)s of %(goal)s, %(percent)s") % {
            "raised": raised_text, "goal": goal_text, "percent": percent_text},
        valuenow=_plain_number(clamped),
        valuemax=_plain_number(progress.target),
        raised_anchor="start" if fill < 12 else "end" if fill > 88 else "middle",
        ticks=tuple(ticks),
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
    )


def widget_document(model: WidgetModel, campaign: Campaign, progress: Progress) -> dict[str, Any]:
    """The JSON form: exact money as decimal strings plus minor units, never floats."""

    def money(value: Money) -> dict[str, Any]:
        return {"amount": value.plain(), "minor": value.minor, "currency": value.currency}

    def moment(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    updated = max(filter(None, (campaign.updated_at, progress.updated_at)))
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "status": campaign.status,
        "currency": campaign.currency,
        "goal": money(progress.target),
        "raised": money(progress.raised),
        "pending": money(progress.pending),
        "percent": str(progress.percent),
        "donors": progress.donors,
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
            "meta": model.meta_text,
            "cta": model.cta_text,
            "button": model.button_text,
            "ticks": [{"position": str(t.position), "label": t.label, "kind": t.kind, "title": t.title}
                      for t in model.ticks],
        },
        "updated_at": moment(updated),
    }


# ---------------------------------------------------------------------------------------------
# Images. Every text goes through escape(): titles and labels are typed by admins, and an SVG
# is XML, where an unescaped "<" or "&" breaks the image or injects markup.

def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _x(position: Decimal, left: float = 12, width: float = IMAGE_WIDTH - 24) -> float:
    return round(left + float(position) * width / 100, 1)


def _accent_for(accent: str, palette: Palette) -> str:
    # The default blue is too dark on the dark background; a chosen accent is the owner's call.
    return palette.accent if accent == DISPLAY_DEFAULTS["accent"] else accent


def _themed(theme: str, rules: Callable[[Palette], str]) -> str:
    if theme == "auto":
        return rules(PALETTES["light"]) + "@media (prefers-color-scheme:dark){" + rules(PALETTES["dark"]) + "}"
    return rules(PALETTES[theme])


@lru_cache(maxsize=256)
def svg_style(theme: str, accent: str) -> str:
    """The SVG image's stylesheet: a function of theme and accent only, so its CSP hash is too."""

    def rules(palette: Palette) -> str:
        return (f".bg{{fill:{palette.background}}}.fg{{fill:{palette.text}}}.mu{{fill:{palette.muted}}}"
                f".tr{{fill:{palette.track}}}.ac{{fill:{_accent_for(accent, palette)}}}"
                f".tk{{stroke:{palette.muted}}}")

    return "text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" + _themed(theme, rules)


@lru_cache(maxsize=256)
def page_style(theme: str, accent: str) -> str:
    """The iframe page's stylesheet: a function of theme and accent only, so its CSP hash is too."""
    # Figures (the fill's width, tick positions) live in the inline SVG's attributes, not in
    # CSS, so that a 304 can carry the same CSP hash without loading the campaign.

    def rules(palette: Palette) -> str:
        fill = _accent_for(accent, palette)
        return (f":root{{--bg:{palette.background};--fg:{palette.text};--mu:{palette.muted};"
                f"--tr:{palette.track};--ac:{fill};--at:{text_colour_on(fill)}}}")

    return (
        _themed(theme, rules)
        + "*{box-sizing:border-box}html,body{margin:0;background:var(--bg);color:var(--fg)}"
        "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;padding:10px 14px}"
        "h1{font-size:15px;margin:0 0 6px}h1 a{color:var(--fg);text-decoration:none}"
        "h1 a:hover,h1 a:focus{text-decoration:underline}"
        ".cta{margin:0 0 8px;font-size:15px;font-weight:600}"
        ".meta{margin:2px 0 10px;color:var(--mu);font-size:13px}"
        "svg{display:block;overflow:visible}.now{font-weight:700;fill:var(--fg);font-size:13px}"
        ".tr{fill:var(--tr)}.fi{fill:var(--ac);transform-box:fill-box;transform-origin:left;"
        "animation:grow .8s ease-out}.tk{stroke:var(--mu)}.tl{fill:var(--mu);font-size:11px}"
        "@keyframes grow{from{transform:scaleX(0)}}"
        "@media (prefers-reduced-motion:reduce){.fi{animation:none}}"
        ".btn{display:inline-block;padding:7px 16px;border-radius:6px;background:var(--ac);color:var(--at);"
        "font-weight:600;text-decoration:none}.btn:focus-visible{outline:3px solid var(--fg);outline-offset:2px}"
    )


def render_svg(model: WidgetModel) -> str:
    """The bar as a standalone SVG image with a <title> for screen readers."""
    label = f"{model.title}: {model.valuetext}"
    fill_width = _x(model.fill) - 12
    anchor = model.raised_anchor
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{IMAGE_WIDTH}" height="{IMAGE_HEIGHT}" '
        f'viewBox="0 0 {IMAGE_WIDTH} {IMAGE_HEIGHT}" role="img" aria-labelledby="t">',
        f'<title id="t">{escape(label)}</title>',
        f"<style>{svg_style(model.options.theme, model.options.accent)}</style>",
        f'<rect class="bg" width="{IMAGE_WIDTH}" height="{IMAGE_HEIGHT}" rx="8"/>',
        f'<text class="fg" x="12" y="22" font-size="14" font-weight="600">'
        f'{escape(_shorten(model.title, 44))}</text>',
        f'<text class="fg" x="{_x(model.fill)}" y="44" font-size="13" font-weight="700" '
        f'text-anchor="{anchor}">{escape(model.raised_text)}</text>',
        f'<rect class="tr" x="12" y="50" width="{IMAGE_WIDTH - 24}" height="12" rx="6"/>',
    ]
    if fill_width > 0:
        parts.append(f'<rect class="ac" x="12" y="50" width="{fill_width}" height="12" rx="6"/>')
    for tick in model.ticks:
        x = _x(tick.position)
        tick_anchor = {"start": "start", "goal": "end"}.get(tick.kind, "middle")
        parts.append(f'<line class="tk" x1="{x}" y1="64" x2="{x}" y2="69" stroke-width="1"/>')
        parts.append(f'<text class="mu" x="{x}" y="82" font-size="11" text-anchor="{tick_anchor}">'
                     f"{escape(tick.label)}</text>")
    if model.caption:
        parts.append(f'<text class="mu" x="12" y="100" font-size="12">{escape(model.caption)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _printable(text: str) -> str:
    # Pillow's built-in font has no glyph for the no-break spaces Babel puts in "2.160 $".
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def render_png(model: WidgetModel) -> bytes:
    """The bar as a PNG (for e-mail, where SVG is blocked), drawn with Pillow's built-in font."""
    from PIL import Image, ImageDraw, ImageFont

    scale = PNG_SCALE
    palette = model.palette  # "auto" cannot follow the reader's theme in a PNG: it is light
    image = Image.new("RGB", (IMAGE_WIDTH * scale, IMAGE_HEIGHT * scale), palette.background)
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=14 * scale)
    raised_font = ImageFont.load_default(size=13 * scale)
    small_font = ImageFont.load_default(size=11 * scale)
    caption_font = ImageFont.load_default(size=12 * scale)

    def s(value: float) -> int:
        return round(value * scale)

    title = _printable(model.title)
    while len(title) > 1 and title_font.getlength(title) / scale > IMAGE_WIDTH - 24:
        title = title[:-2].rstrip() + "…"
    draw.text((s(12), s(22)), title, font=title_font, fill=palette.text, anchor="ls")
    if model.caption:
        draw.text((s(12), s(100)), _printable(model.caption), font=caption_font, fill=palette.muted, anchor="ls")
    pil_anchor = {"start": "ls", "middle": "ms", "end": "rs"}
    draw.text((s(_x(model.fill)), s(44)), _printable(model.raised_text), font=raised_font, fill=palette.text,
              anchor=pil_anchor[model.raised_anchor])
    draw.rounded_rectangle((s(12), s(50), s(IMAGE_WIDTH - 12), s(62)), radius=s(6), fill=palette.track)
    if model.fill > 0:
        right = max(_x(model.fill), 24)  # a sliver still shows the rounded end
        draw.rounded_rectangle((s(12), s(50), s(right), s(62)), radius=s(6),
                               fill=_accent_for(model.options.accent, palette))
    for tick in model.ticks:
        x = s(_x(tick.position))
        draw.line((x, s(64), x, s(69)), fill=palette.muted, width=scale)
        tick_anchor = {"start": "ls", "goal": "rs"}.get(tick.kind, "ms")
        draw.text((x, s(82)), _printable(tick.label), font=small_font, fill=palette.muted, anchor=tick_anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
