"""Drawing the widget: the iframe's and the SVG's stylesheets, the SVG image and the PNG image."""
from __future__ import annotations

import io
from decimal import Decimal
from functools import lru_cache
from html import escape
from typing import Any, Callable

from ..resources import PNG_FONT
from .colours import PALETTES, Palette, text_colour_on
from .model import WidgetModel
from .options import DISPLAY_DEFAULTS, IMAGE_HEIGHT, IMAGE_WIDTH, PNG_SCALE


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

    return ("text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}.pe{opacity:.4}"
            + _themed(theme, rules))


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
        "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;padding:8px 14px}"
        "h1{font-size:15px;margin:0 0 6px}h1 a{color:var(--fg);text-decoration:none}"
        # A title of up to 200 characters: two lines, then an ellipsis (the full one is the page's <title>).
        "h1{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden}"
        ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}"
        ".cta,.meta{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden}"
        # One line of ARTICLE_LINE_HEIGHT (18 + 6 px), however long the amount or the language.
        ".article{margin:0 0 6px;font-size:13px;line-height:18px;white-space:nowrap;overflow:hidden;"
        "text-overflow:ellipsis}"
        "h1 a:hover,h1 a:focus{text-decoration:underline}"
        ".cta{margin:0 0 8px;font-size:15px;font-weight:600}"
        ".meta{margin:0 0 6px;color:var(--mu);font-size:13px;line-height:1.3}"
        "svg{display:block;overflow:visible}.now{font-weight:700;fill:var(--fg);font-size:13px}"
        ".tr{fill:var(--tr)}.pe{fill:var(--ac);opacity:.4}.fi{fill:var(--ac);transform-box:fill-box;transform-origin:left;"
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
    if model.bar.pending > 0:
        # Pending gifts: a lighter segment after the fill (confirmed and pending apart, as BTCPay shows them).
        pending_width = _x(model.fill + model.bar.pending) - _x(model.fill)
        parts.append(f'<rect class="ac pe" x="{_x(model.fill)}" y="50" width="{pending_width}" height="12"/>')
    for tick, label in model.labelled_ticks:
        x = _x(tick.position)
        tick_anchor = {"start": "start", "goal": "end"}.get(tick.kind, "middle")
        parts.append(f'<line class="tk" x1="{x}" y1="64" x2="{x}" y2="69" stroke-width="1"/>')
        parts.append(f'<text class="mu" x="{x}" y="82" font-size="11" text-anchor="{tick_anchor}">'
                     f"{escape(label)}</text>")
    if model.caption:
        parts.append(f'<text class="mu" x="12" y="100" font-size="12">{escape(model.caption)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _mix(colour: str, background: str, share: float) -> str:
    """`colour` at `share` opacity over `background` (#rrggbb): the PNG's pending segment."""
    mixed = [round(int(colour[i:i + 2], 16) * share + int(background[i:i + 2], 16) * (1 - share)) for i in (1, 3, 5)]
    return "#" + "".join(f"{value:02x}" for value in mixed)


def _printable(text: str) -> str:
    # DejaVu Sans has U+00A0 but not every font has U+202F (Babel's narrow no-break space in
    # "2.160 $"); a plain space reads the same in an image nobody selects text from.
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@lru_cache(maxsize=16)
def png_font(size: int) -> Any:
    """DejaVu Sans at `size` pixels, shipped in tracker/fonts/ (€, £, umlauts, ß, dashes, Cyrillic)."""
    from PIL import ImageFont

    return ImageFont.truetype(str(PNG_FONT), size=size)


def render_png(model: WidgetModel) -> bytes:
    """The bar as a PNG (for e-mail, where SVG is blocked), drawn with the shipped DejaVu Sans."""
    from PIL import Image, ImageDraw

    scale = PNG_SCALE
    palette = model.palette  # "auto" cannot follow the reader's theme in a PNG: it is light
    image = Image.new("RGB", (IMAGE_WIDTH * scale, IMAGE_HEIGHT * scale), palette.background)
    draw = ImageDraw.Draw(image)
    title_font = png_font(14 * scale)
    raised_font = png_font(13 * scale)
    small_font = png_font(11 * scale)
    caption_font = png_font(12 * scale)

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
    if model.bar.pending > 0:
        accent = _accent_for(model.options.accent, palette)
        lighter = _mix(accent, palette.track, 0.4)
        draw.rectangle((s(_x(model.fill)), s(50), s(_x(model.fill + model.bar.pending)), s(62)), fill=lighter)
    for tick, label in model.labelled_ticks:
        x = s(_x(tick.position))
        draw.line((x, s(64), x, s(69)), fill=palette.muted, width=scale)
        tick_anchor = {"start": "ls", "goal": "rs"}.get(tick.kind, "ms")
        draw.text((x, s(82)), _printable(label), font=small_font, fill=palette.muted, anchor=tick_anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

