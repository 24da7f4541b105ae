"""Message catalogs: every message in the code and templates is in German, and the .mo matches its .po."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "tracker" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
WIDGET_SOURCES = ("tracker/widget/", "templates/widget/")


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


def extracted_messages() -> dict[str, list[str]]:
    """{message id: [where]} of every message pybabel extracts with babel.cfg (its keywords too)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    found: dict[str, list[str]] = {}
    # pybabel's own default: folders starting with "." or "_" are not searched.
    for filename, line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords,
            directory_filter=lambda path: not Path(path).name.startswith((".", "_"))):
        ids = message if isinstance(message, tuple) else (message,)
        found.setdefault(ids[0], []).append(f"{filename}:{line}")
    return found


def test_no_template_folder_is_hidden_from_pybabel():
    hidden = [p for p in (ROOT / "templates").rglob("*") if p.is_dir() and p.name.startswith(("_", "."))]
    assert hidden == [], "pybabel extract skips these folders: rename them"


def test_every_message_of_the_code_and_templates_is_in_german():
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = extracted_messages()
    assert len(found) > 40  # the extraction itself works
    missing = []
    for message_id, places in sorted(found.items()):
        entry = catalog.get(message_id)
        strings = entry.string if entry is not None else None
        translated = entry is not None and not entry.fuzzy and (
            all(strings) if isinstance(strings, tuple) else bool(strings))
        if not translated:
            missing.append(f"{message_id!r} ({places[0]})")
    assert missing == [], ("not translated into German (run `make messages`, translate, commit):\n"
                           + "\n".join(missing))

