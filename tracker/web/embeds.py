"""Ready-to-paste embed codes: the one place every snippet of the widget is written.

The admin's campaign page, the demo article, the oEmbed answer and the docs all show these
snippets, built from the widget's own sizes (`widget.options`) and this site's addresses.
None needs an inline style, so each works under a host page's strict CSP (`style-src-attr`).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from ..widget.options import IMAGE_HEIGHT, IMAGE_WIDTH, VARIANT_SIZES
from .urls import api_url, campaign_url, embed_script_url, public_base_url, widget_url

#: The host page may give the iframe's frame away with this one rule (the snippets carry no style).
HOST_CSS = ".reader-support-widget{border:0}"


@dataclass(frozen=True)
class EmbedCode:
    key: str
    label: str
    code: str


def iframe_code(slug: str, variant: str = "card", *, title: str, theme: str | None = None,
                accent: str | None = None, locale: str | None = None, width: int | None = None,
                height: int | None = None, base: str | None = None) -> Markup:
    """The iframe of one variant, sized as the variant is drawn."""
    default_width, default_height = VARIANT_SIZES.get(variant, VARIANT_SIZES["card"])
    src = widget_url(slug, base=base, variant=variant, theme=theme, accent=accent, locale=locale)
    return Markup(f'<iframe class="reader-support-widget" src="{escape(src)}" title="{escape(title)}" '
                  f'width="{width or default_width}" height="{height or default_height}" loading="lazy"></iframe>')


def script_code(slug: str, *, variant: str | None = None, theme: str | None = None, refresh: int | None = None,
                base: str | None = None) -> Markup:
    """The embed script and the element it fills (Shadow DOM, live refresh every `refresh` seconds)."""
    attributes = (("variant", variant), ("theme", theme), ("refresh", str(refresh) if refresh else None))
    extra = "".join(f' data-{name}="{escape(value)}"' for name, value in attributes if value)
    return Markup(f'<script src="{escape(embed_script_url(base))}" async></script>\n'
                  f'<div data-tracker-campaign="{escape(slug)}"{extra}></div>')


def image_code(slug: str, *, alt: str, image: str = "svg", link: bool = True, base: str | None = None) -> Markup:
    """The SVG (or PNG, for e-mail) image, linked to the campaign page."""
    img = (f'<img src="{escape(widget_url(slug, "." + image, base=base))}" alt="{escape(alt)}" '
           f'width="{IMAGE_WIDTH}" height="{IMAGE_HEIGHT}">')
    return Markup(f'<a href="{escape(campaign_url(slug, base))}">{img}</a>' if link else img)


def markdown_code(slug: str, *, alt: str, base: str | None = None) -> str:
    """The SVG image as Markdown, for READMEs and forums."""
    text = alt.replace("[", "").replace("]", "")
    return f"[![{text}]({widget_url(slug, '.svg', base=base)})]({campaign_url(slug, base)})"


def embed_codes(slug: str, title: str, base: str | None = None) -> list[EmbedCode]:
    """Every way to embed one campaign, ready to paste."""
    base = base or public_base_url()
    return [
        EmbedCode("iframe", "HTML (iframe)", str(iframe_code(slug, title=title, base=base))),
        EmbedCode("script", "Script (Shadow DOM)", str(script_code(slug, base=base))),
        EmbedCode("image", "Image (HTML)", str(image_code(slug, alt=title, base=base))),
        EmbedCode("json", "JSON URL", api_url(slug, base)),
        EmbedCode("markdown", "Markdown image", markdown_code(slug, alt=title, base=base)),
    ]
