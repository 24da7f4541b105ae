"""The import functions themselves: decoding an upload, preview without effect, the signed payload."""

from __future__ import annotations

import pytest
from factories import CLI

from tracker.donations.imports import (
    MAX_IMPORT_BYTES,
    check_upload,
    decode_upload,
    import_confirmed,
    preview_import,
    sign_upload,
)
from tracker.errors import InvalidInput
from tracker.models import Donation

CSV = "campaign,amount,currency,received_at,external_id\ndemo,10.00,USD,2026-11-01T10:00:00+00:00,bank-1\n"


def test_decode_accepts_utf8_with_or_without_bom_and_refuses_the_rest():
    assert decode_upload(CSV.encode()) == CSV
    assert decode_upload(b"\xef\xbb\xbf" + CSV.encode()) == CSV
    for data, message in ((b"", "choose a CSV file"), (b"x" * (MAX_IMPORT_BYTES + 1), "larger than"),
                          (b"a\x00b", "not a CSV text file")):
        with pytest.raises(InvalidInput, match=message):
            decode_upload(data)


def test_preview_changes_nothing_and_confirm_imports(session, make_campaign):
    make_campaign("demo")
    report = preview_import(session, CSV, actor=CLI)
    assert (report.created, report.skipped, report.errors) == (1, 0, [])
    assert session.query(Donation).count() == 0
    assert import_confirmed(session, CSV, actor=CLI).created == 1
    session.commit()
    assert import_confirmed(session, CSV, actor=CLI).skipped == 1


def test_a_payload_is_bound_to_its_text_and_its_user():
    key = b"k" * 32
    signature = sign_upload(key, 7, CSV)
    check_upload(key, 7, CSV, signature)
    for user, text, sent in ((8, CSV, signature), (7, CSV + "x", signature), (7, CSV, "é" + signature[1:])):
        with pytest.raises(InvalidInput, match="changed on the way"):
            check_upload(key, user, text, sent)
