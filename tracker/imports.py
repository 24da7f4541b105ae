"""Donations CSV import in two steps: a preview that is rolled back, then the confirmed import."""

# Between the steps the CSV text travels in the confirm form with an HMAC over it and the
# user's id: the server stores nothing, any worker can finish the import, and what is
# confirmed is byte for byte what was previewed.

from __future__ import annotations

import csv
import hashlib
import hmac
import io

from sqlalchemy.orm import Session

from .audit import Actor
from .errors import DomainError, InvalidInput
from .transfer import ImportReport, import_rows, read_csv_rows

#: Larger files go through `tracker import` (the confirm step re-sends the text as a form field).
MAX_IMPORT_BYTES = 400_000


def decode_upload(data: bytes) -> str:
    """The uploaded CSV as text (UTF-8, with or without BOM), or InvalidInput on the file field."""
    if not data:
        raise InvalidInput("choose a CSV file", field="file")
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_IMPORT_BYTES // 1000} kB: "
                           "import it with `tracker import` instead", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text: export it as CSV (UTF-8)", field="file") from None
    if "\x00" in text:
        raise InvalidInput("the file is not a CSV text file", field="file")
    return text


def _run(session: Session, text: str, actor: Actor) -> ImportReport:
    try:
        return import_rows(session, read_csv_rows(io.StringIO(text, newline="")), actor=actor)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read: {exc}", field="file") from None
    except DomainError as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(exc.message, field="file") from None


def preview_import(session: Session, text: str, *, actor: Actor) -> ImportReport:
    """What importing `text` would do; everything it wrote is rolled back."""
    savepoint = session.begin_nested()
    try:
        return _run(session, text, actor)
    finally:
        savepoint.rollback()


def import_confirmed(session: Session, text: str, *, actor: Actor) -> ImportReport:
    """Import `text` (flushed, not committed); the caller commits only when the report is clean."""
    return _run(session, text, actor)


def sign_upload(key: bytes, user_id: int, text: str) -> str:
    """HMAC-SHA256 binding the previewed text to the user who previewed it."""
    return hmac.new(key, f"csv-import:{user_id}:".encode() + text.encode(), hashlib.sha256).hexdigest()


def check_upload(key: bytes, user_id: int, text: str, signature: str) -> None:
    """Refuse text that is not exactly what this user previewed."""
    # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    if not hmac.compare_digest(sign_upload(key, user_id, text).encode(), (signature or "").encode()):
        raise InvalidInput("the previewed file was changed on the way: upload it again", field="file")
