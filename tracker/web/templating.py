"""What every template may use: the money filters, the site settings, the locale."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale

from ..audit import readable_name, readable_value
from ..campaigns.progress import percent_label
from ..money import Money, format_money
from .context import settings
from .embeds import iframe_code, image_code, script_code


def _locale() -> str:
    return str(get_locale() or "en")


def register_template_helpers(app: Flask) -> None:
    """The money filters, the embed snippets, and `site` and `get_locale` in every template."""

    @app.template_filter("money")
    def money_filter(value: Any, trim_whole: bool = True) -> str:
        return format_money(value, _locale(), trim_whole=trim_whole)

    @app.template_filter("minor_money")
    def minor_money(minor: int, currency: str) -> str:
        """An amount stored in minor units, with every decimal place shown."""
        return Money(minor, currency).format(_locale(), trim_whole=False)

    @app.template_filter("percent")
    def percent_filter(value: Any) -> str:
        """A progress percent as the widget shows it ("43%"; "43 %" in German)."""
        return percent_label(value, _locale())

    # Stored values (audit snapshots, display settings) as a person would write them.
    app.add_template_global(readable_value, "readable")
    app.add_template_filter(readable_name, "field_name")

    # The embed snippets, for this site's own pages (the demo article): the same markup the
    # admin offers for copying.
    app.add_template_global(iframe_code, "embed_iframe")
    app.add_template_global(script_code, "embed_script")
    app.add_template_global(image_code, "embed_image")

    @app.context_processor
    def site_context() -> dict[str, Any]:
        return {"site": settings().site, "get_locale": get_locale}
