"""Message catalogs: the committed .mo matches its .po, and the widget's own texts are translated."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "tracker" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
WIDGET_SOURCES = ("tracker/widgets.py", "templates/widget/")


def _frozen(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def messages(catalog) -> dict:
    """{(id, context): translation} of a catalog, plural forms as tuples."""
    return {(_frozen(m.id), m.context): _frozen(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parts[-3])
def test_compiled_catalog_is_up_to_date(po_path, tmp_path):
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    compiled = tmp_path / "messages.mo"
    with compiled.open("wb") as handle:
        write_mo(handle, catalog)  # what `pybabel compile` writes: fuzzy entries left out
    with compiled.open("rb") as handle:
        expected = messages(read_mo(handle))
    with po_path.with_suffix(".mo").open("rb") as handle:
        committed = messages(read_mo(handle))
    assert committed == expected, "run `pybabel compile -d tracker/translations` and commit the .mo"


def test_german_exists():
    assert (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.mo").is_file()


def test_widget_texts_are_translated_into_german():
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    widget_messages = [m for m in catalog if m.id and any(
        filename.startswith(WIDGET_SOURCES) for filename, _line in m.locations)]
    assert len(widget_messages) >= 6
    untranslated = [m.id for m in widget_messages
                    if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []


def test_the_up_to_date_check_can_fail(tmp_path):
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    catalog.get("Support us").string = "Etwas anderes"
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        assert messages(read_mo(buffer)) != messages(read_mo(handle))
