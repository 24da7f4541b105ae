"""The committed German catalog, for the widget tests."""

from __future__ import annotations

from pathlib import Path

from babel.support import Translations

TRANSLATIONS = Path(__file__).resolve().parents[2] / "tracker" / "translations"


def german() -> Translations:
    """The committed German catalog, as the app loads it."""
    return Translations.load(str(TRANSLATIONS), ["de"])
