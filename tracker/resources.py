"""Where the templates, static files and fonts are: beside the code in a wheel, at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource_folder(name: str) -> Path:
    """`tracker/<name>` when installed from a wheel, else `<checkout>/<name>` (templates, static)."""
    # The design card keeps templates/ and static/ at the repository's top level; the wheel
    # maps them into the package (setup.py), so both layouts are found without configuration.
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no {name}/ folder beside {PACKAGE}: the installation is incomplete")


TEMPLATES = resource_folder("templates")
STATIC = resource_folder("static")
#: The font the PNG images are drawn with (DejaVu Sans, licence beside it): Pillow's own has no €, ü or Ж.
PNG_FONT = PACKAGE / "fonts" / "DejaVuSans.ttf"
