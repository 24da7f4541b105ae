"""QR code rendering for payment pages: module matrix, compact SVG and PNG.

The ``qrcode`` library does the actual QR encoding (mode selection, error
correction, masking); this module only serialises its module matrix.  We
write the SVG by hand because the library's path output is several times
larger than needed (over 11 KB for an 80-character URI): tracing the
outlines of the dark regions keeps ours under 4 KB, and the PNG straight from the matrix with Pillow so the pixels are
exactly ``scale`` x ``scale`` per module with no factory-specific quirks.

Caching: every public renderer is a pure function of its arguments (text
and options in, immutable ``tuple``/``str``/``bytes`` out), so a per-process
``functools.lru_cache`` is correct without any invalidation; a payment
page's QR code is thus rendered once per content and worker.  Each entry is
bounded by the QR capacity (< 3 KB of input), and ``maxsize`` bounds the
entry count.  ``clear_cache()`` exists for tests.
"""

from __future__ import annotations

import base64
import io
import re
from functools import lru_cache
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
from PIL import Image
from qrcode.exceptions import DataOverflowError

__all__ = [
    "DEFAULT_BORDER",
    "DEFAULT_ERROR_CORRECTION",
    "Matrix",
    "cache_clear",
    "dark_outlines",
    "qr_matrix",
    "qr_png",
    "qr_svg",
]

Matrix = tuple[tuple[bool, ...], ...]

# ISO/IEC 18004:2015, section 9.1 (quiet zone): the symbol needs a light
# margin of 4 modules on every side for reliable scanning.  Callers may pass
# less (e.g. when the surrounding page already provides light padding).
DEFAULT_BORDER = 4

# Level M restores ~15 % damaged codewords.  L (~7 %) is too fragile for a
# QR code photographed off a glossy phone screen or a creased print, while
# Q/H make the symbol one or two versions denser for the same URI, which
# hurts small renderings and low-end cameras more than they help.
DEFAULT_ERROR_CORRECTION = "M"

_EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}

# Only hex colours reach the SVG: anything else (named colours, url(),
# quotes) would be a way to inject markup or external references.
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

# A few dozen distinct payment URIs per process is the realistic working set
# (one per goal/coin/amount preset); these sizes leave plenty of headroom.
_MATRIX_CACHE_SIZE = 256
_RENDER_CACHE_SIZE = 256


def _check_border(border: int) -> None:
    """Reject negative or non-integer quiet-zone widths."""
    if not isinstance(border, int) or isinstance(border, bool) or border < 0:
        raise ValueError(f"border must be a non-negative int, got {border!r}")


def _check_colour(name: str, value: str) -> None:
    """Raise ValueError unless value is a #rgb or #rrggbb hex colour."""
    if not isinstance(value, str) or not _HEX_COLOUR.fullmatch(value):
        raise ValueError(f"{name} must be a #rgb or #rrggbb hex colour, got {value!r}")


@lru_cache(maxsize=_MATRIX_CACHE_SIZE)
def qr_matrix(
    text: str,
    *,
    border: int = DEFAULT_BORDER,
    error_correction: str = DEFAULT_ERROR_CORRECTION,
) -> Matrix:
    """Return the QR module grid for text (True = dark), quiet zone included."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    _check_border(border)
    try:
        level = _EC_LEVELS[error_correction]
    except KeyError:
        raise ValueError(
            f"error_correction must be one of {sorted(_EC_LEVELS)}, got {error_correction!r}"
        ) from None
    code = qrcode.QRCode(version=None, error_correction=level, box_size=1, border=border)
    code.add_data(text)
    try:
        code.make(fit=True)
    except DataOverflowError as exc:
        # Callers validate user input; a ValueError is what they expect.
        raise ValueError(f"text too long for a QR code ({len(text)} characters)") from exc
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def dark_outlines(matrix: Matrix) -> list[list[tuple[int, int]]]:
    """Trace the dark regions' boundaries as closed loops of corner points."""
    # Every edge between a dark module and a light one (or the grid's edge)
    # becomes a directed unit edge with the dark module on its right, i.e.
    # clockwise on screen.  Outer boundaries then run clockwise and holes
    # anticlockwise, so the default nonzero fill rule paints exactly the dark
    # modules however the edges are chained into loops.  Outlines need far
    # fewer commands than one rectangle per run, because neighbouring runs
    # share edges: that is what keeps the SVG under budget.
    n = len(matrix)

    def dark(x: int, y: int) -> bool:
        return 0 <= x < n and 0 <= y < n and matrix[y][x]

    outgoing: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for y, row in enumerate(matrix):
        for x, cell in enumerate(row):
            if not cell:
                continue
            if not dark(x, y - 1):
                outgoing.setdefault((x, y), []).append((x + 1, y))
            if not dark(x + 1, y):
                outgoing.setdefault((x + 1, y), []).append((x + 1, y + 1))
            if not dark(x, y + 1):
                outgoing.setdefault((x + 1, y + 1), []).append((x, y + 1))
            if not dark(x - 1, y):
                outgoing.setdefault((x, y + 1), []).append((x, y))

    loops: list[list[tuple[int, int]]] = []
    # Row-major start points keep the relative moves between loops short.
    for start in sorted(outgoing, key=lambda p: (p[1], p[0])):
        while outgoing[start]:
            points = [start]
            current = outgoing[start].pop()
            while current != start:
                points.append(current)
                # Two exits only where dark modules touch diagonally; either
                # choice yields valid loops, because the fill depends on the
                # set of edges, not on how they are grouped.
                current = outgoing[current].pop()
            count = len(points)
            corners = [
                (px, py)
                for i, (px, py) in enumerate(points)
                if not (points[i - 1][0] == px == points[(i + 1) % count][0])
                and not (points[i - 1][1] == py == points[(i + 1) % count][1])
            ]
            loops.append(corners)
    return loops


def _path_data(loops: list[list[tuple[int, int]]]) -> str:
    """Serialise outline loops as one path of relative h/v commands."""
    parts: list[str] = []
    # After "z" the current point returns to the subpath's start, so each
    # move is relative to the previous loop's first corner; "z" also draws
    # the final edge back to it.
    prev_x, prev_y = 0, 0
    for corners in loops:
        x0, y0 = corners[0]
        parts.append(f"m{x0 - prev_x} {y0 - prev_y}")
        cx, cy = x0, y0
        for x, y in corners[1:]:
            parts.append(f"h{x - cx}" if y == cy else f"v{y - cy}")
            cx, cy = x, y
        parts.append("z")
        prev_x, prev_y = x0, y0
    if parts:
        # The grammar allows a leading "m" (read as absolute), but an explicit
        # "M" is clearer to anyone reading the markup; same numbers here
        # because the move is relative to the origin.
        parts[0] = "M" + parts[0][1:]
    return "".join(parts)


@lru_cache(maxsize=_RENDER_CACHE_SIZE)
def qr_svg(
    text: str,
    *,
    dark: str = "#000",
    light: str = "#fff",
    border: int = DEFAULT_BORDER,
    title: str | None = None,
    size: int | None = None,
    error_correction: str = DEFAULT_ERROR_CORRECTION,
) -> str:
    """Return a standalone, scalable SVG document of the QR code for text."""
    _check_colour("dark", dark)
    _check_colour("light", light)
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        raise ValueError(f"size must be a positive int or None, got {size!r}")
    matrix = qr_matrix(text, border=border, error_correction=error_correction)
    n = len(matrix)
    label = title if title is not None else "QR code"
    # Unitless width/height only when asked for: without them the SVG
    # scales to whatever box CSS gives it.
    dims = f' width="{size}" height="{size}"' if size is not None else ""
    attr_label = escape(label, {'"': "&quot;"})
    title_el = f"<title>{escape(title)}</title>" if title is not None else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}"{dims}'
        f' shape-rendering="crispEdges" role="img" aria-label="{attr_label}">'
        f"{title_el}"
        f'<rect width="{n}" height="{n}" fill="{light}"/>'
        f'<path fill="{dark}" d="{_path_data(dark_outlines(matrix))}"/>'
        "</svg>"
    )


@lru_cache(maxsize=_RENDER_CACHE_SIZE)
def qr_png(
    text: str,
    *,
    scale: int = 8,
    border: int = DEFAULT_BORDER,
    error_correction: str = DEFAULT_ERROR_CORRECTION,
) -> bytes:
    """Return a 1-bit PNG of the QR code, scale pixels per module."""
    if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= 64:
        raise ValueError(f"scale must be an int in 1..64, got {scale!r}")
    matrix = qr_matrix(text, border=border, error_correction=error_correction)
    n = len(matrix)
    # Mode "1": 0 is black, 255 white.  Build one pixel per module, then
    # scale with NEAREST so every module is an exact scale x scale square.
    image = Image.new("1", (n, n))
    image.putdata([0 if cell else 255 for row in matrix for cell in row])
    image = image.resize((n * scale, n * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def cache_clear() -> None:
    """Drop every cached matrix and rendering (for tests)."""
    qr_matrix.cache_clear()
    qr_svg.cache_clear()
    qr_png.cache_clear()


def qr_data_uri(text: str) -> str:
    """An SVG QR code of `text` as a data: URI (the admin CSP allows `img-src data:`)."""
    svg = qr_svg(text, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")

