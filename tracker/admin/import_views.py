"""Donations CSV import: upload, preview (rolled back), confirm."""

from __future__ import annotations

import base64
import binascii

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..errors import InvalidInput
from ..imports import check_upload, decode_upload, import_confirmed, preview_import, sign_upload
from ..web import db, request_actor
from .access import requires
from .blueprint import bp
from .forms import ImportConfirmForm, ImportUploadForm
from .responses import form_errors, render_form


def _key() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def _decode_payload(payload: str) -> str:
    try:
        return base64.b64decode(payload.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError):
        raise InvalidInput("the previewed file was changed on the way: upload it again", field="file") from None


@bp.get("/donations/import")
@requires("admin")
def donations_import() -> str:
    """Choose a donations CSV to preview."""
    return render_template("admin/import.html", form=ImportUploadForm(), report=None)


@bp.post("/donations/import")
@requires("admin")
def donations_import_preview() -> tuple[str, int]:
    """Check every row of the uploaded CSV in a transaction that is rolled back; show the result."""
    form = ImportUploadForm()
    report, confirm = None, None
    if form.validate_on_submit():
        with form_errors(form, "file"):
            upload = form.file.data
            text = decode_upload(upload.read() if upload else b"")
            report = preview_import(db(), text, actor=request_actor())
            db().rollback()
            confirm = ImportConfirmForm(formdata=None, payload=base64.b64encode(text.encode()).decode("ascii"),
                                        signature=sign_upload(_key(), current_user.id, text))
    status = 422 if report is not None and not report.ok else 200
    page, code = render_form("admin/import.html", form, report=report, confirm_form=confirm)
    return page, max(code, status)


@bp.post("/donations/import/confirm")
@requires("admin")
def donations_import_confirm() -> Response | tuple[str, int]:
    """Import the previewed CSV; saved only when every row is accepted (re-importing adds nothing)."""
    form = ImportConfirmForm()
    upload_form = ImportUploadForm(formdata=None)
    report = None
    if form.validate_on_submit():
        with form_errors(upload_form, "file"):
            text = _decode_payload(form.payload.data)
            check_upload(_key(), current_user.id, text, form.signature.data)
            report = import_confirmed(db(), text, actor=request_actor())
            if report.ok:
                db().commit()
                flash(f"Imported {report.created} donation(s); {report.skipped} were already in the ledger.",
                      "success")
                return redirect(url_for("admin.donations"))
            db().rollback()
    else:
        upload_form.form_errors.append("The preview expired: upload the file again.")
    return render_form("admin/import.html", upload_form, 422, report=report, confirm_form=None)
