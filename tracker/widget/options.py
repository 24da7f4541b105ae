"""Widget options: variants, themes, accents and sizes, from the query and the campaign's display settings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import InvalidInput

VARIANTS = ("bar", "card", "cta")




DEFAULT_VARIANT = "card"


#: Suggested iframe sizes (CSS pixels) per variant: used by embed snippets and oEmbed. They fit
#: the longest title (200 characters, two lines then an ellipsis) in every locale; a browser
#: test (tests/e2e/test_pages_in_browser.py) measures them.
VARIANT_SIZES: dict[str, tuple[int, int]] = {"bar": (360, 84), "card": (360, 196), "cta": (360, 176)}
#: What `?show=article` adds below the bar ("Readers of this article gave $120", one line).
ARTICLE_LINE_HEIGHT = 24

#: SVG/PNG canvas in CSS pixels; the PNG is drawn at PNG_SCALE for sharp text on dense screens.
IMAGE_WIDTH, IMAGE_HEIGHT, PNG_SCALE = 360, 108, 2


@dataclass(frozen=True)
class WidgetOptions:
    variant: str
    theme: str
    #: Validated #rrggbb, lower-case.
    accent: str
    locale: str

    def for_output(self, output: str) -> WidgetOptions:
        """These options as `output` ("html", "svg" or "png") uses them, what it ignores set to one value.

        The images have no variants, and a PNG cannot follow the reader's theme ("auto" is
        drawn light): `?variant=` on an image, or `theme=auto` on a PNG, is the same answer.
        """
        if output == "html":
            return self
        theme = "light" if output == "png" and self.theme == "auto" else self.theme
        return WidgetOptions(DEFAULT_VARIANT, theme, self.accent, self.locale)


def quantised(colour: str) -> str:
    """A #rrggbb colour from the query rounded to the 4,096 colours of #rgb (each channel x 0x11).

    Each distinct accent is a fresh rendering: 16.7 million of them let anyone keep the
    server drawing. The 4,096 left are indistinguishable on a bar, `#ff8800` stays itself,
    and the per-address render budget (web/caching.py) covers what remains. The campaign's
    own accent, chosen by an admin, is used as set.
    """
    channels = (int(colour[index:index + 2], 16) for index in (1, 3, 5))
    return "#" + "".join(f"{round(value / 17) * 17:02x}" for value in channels)


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
    if HEX_COLOUR.fullmatch(accent):
        accent = quantised(accent)
    else:
        fallback = str(defaults.get("accent") or "")
        accent = fallback if HEX_COLOUR.fullmatch(fallback) else DISPLAY_DEFAULTS["accent"]
    return WidgetOptions(variant=variant if variant in VARIANTS else DEFAULT_VARIANT, theme=theme,
                         accent=accent.lower(), locale=locale)


THEMES = ("light", "dark", "auto")


HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

#: Display options and their defaults; anything else is refused.
DISPLAY_DEFAULTS: dict[str, Any] = {
    "theme": "light",
    "accent": "#1f6feb",
    "show_donors": True,
    "show_pending": False,
    "show_days_left": True,
}


def validate_display(options: dict[str, Any] | None) -> dict[str, Any]:
    """Display options merged over the defaults, each checked; unknown keys refused."""
    merged = dict(DISPLAY_DEFAULTS)
    for key, value in (options or {}).items():
        if key not in DISPLAY_DEFAULTS:
            raise InvalidInput(f"unknown display option {key!r}", field="display")
        if isinstance(DISPLAY_DEFAULTS[key], bool):
            if not isinstance(value, bool):
                raise InvalidInput(f"display option {key} is true or false", field=key)
        elif key == "theme" and value not in THEMES:
            raise InvalidInput(f"theme is one of {', '.join(THEMES)}", field=key)
        elif key == "accent" and not (isinstance(value, str) and HEX_COLOUR.fullmatch(value)):
            raise InvalidInput("accent is a colour like #1f6feb", field=key)
        merged[key] = value
    return merged
