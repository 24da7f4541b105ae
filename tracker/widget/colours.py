"""The widget's palettes and the WCAG arithmetic that proves they are readable."""
from __future__ import annotations

from dataclasses import dataclass


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

