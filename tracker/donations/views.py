"""Back-office pages of the ledger: the filtered list, add (rate shown first), correct, refund, confirm,
export, CSV import and exchange rates."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Iterator
from datetime import timezone

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from ..admin.blueprint import bp
from ..campaigns.operations import list_campaigns
from ..errors import InvalidInput
from ..models import MAX_ROW_ID, Campaign, Donation, ExchangeRate, utcnow
from ..money import Money
from ..processors.exports import as_import_csv, parse_map, translate_export
from ..web import db, request_actor
from ..web.access import requires
from ..web.context import reads_only
from ..web.forms import ActionForm, as_local_input, local_datetime, options
from ..web.query import page_cursors
from ..web.responses import form_errors, render_form
from .export import csv_lines
from .forms import (
    DonationEditForm,
    DonationFilterForm,
    DonationForm,
    ImportConfirmForm,
    ImportUploadForm,
    RateForm,
    ReasonForm,
)
from .imports import ImportReport, check_upload, decode_upload, import_confirmed, preview_import, sign_upload
from .ledger import (
    RateNotConfirmed,
    confirm_donation,
    correct_donation,
    get_donation,
    record_typed_donation,
    refund_donation,
)
from .queries import find_donations
from .rates import record_rate


def _campaign_choices(include_archived: bool = False) -> list[tuple[int, str]]:
    statuses = ("draft", "active", "archived") if include_archived else ("draft", "active")
    return [(c.id, f"{c.title} ({c.currency})") for c in list_campaigns(db(), statuses=statuses)]


@bp.get("/donations")
@requires("viewer")
def donations() -> tuple[str, int]:
    """The ledger, filtered by campaign, status, source and dates, a page at a time."""
    form = DonationFilterForm(request.args)
    form.campaign.choices = options([(0, "any"), *_campaign_choices(include_archived=True)])
    if not form.validate():
        return render_template("admin/donations.html", form=form, page=None), 422
    older, newer = page_cursors()
    page = find_donations(db(), form.to_filter(), older_than=older, newer_than=newer)
    return render_template("admin/donations.html", form=form, page=page), 200


@bp.route("/donations/new", methods=["GET", "POST"])
@requires("admin")
def donation_new() -> BaseResponse | tuple[str, int]:
    """Add a donation; an amount in another currency is shown converted, with its rate, to confirm first."""
    form = DonationForm(campaign=request.args.get("campaign", type=int), form_key=uuid.uuid4().hex)
    form.campaign.choices = options(_campaign_choices())
    conversion = None
    if form.validate_on_submit():
        campaign = db().get_one(Campaign, form.campaign.data)
        received = local_datetime(form.received_at.data, campaign.timezone) or utcnow()
        with form_errors(form, "amount"):
            try:
                recorded = record_typed_donation(
                    db(), campaign, form.amount.value, actor=request_actor(), shown_rate=form.shown_rate.data,
                    reference=form.reference.data, form_key=form.form_key.data, status=form.status.data,
                    received_at=received, donor_name=form.donor_name.data, message=form.message.data,
                    is_public=form.is_public.data)
            except RateNotConfirmed as step:  # not an error: the conversion is shown to be confirmed
                conversion, form.shown_rate.data = step.conversion, step.key
            else:
                db().commit()
                flash("Donation recorded." if recorded.created else
                      "This donation was already recorded: nothing was added.", "success")
                return redirect(url_for("admin.donations", campaign=campaign.id))
    return render_form("admin/donation_new.html", form, conversion=conversion)


@bp.route("/donations/<int:donation_id>", methods=["GET", "POST"])
@requires("viewer")
def donation(donation_id: int) -> BaseResponse | tuple[str, int]:
    """One donation; admins correct it here (amount, date, donor), always with a reason."""
    item = get_donation(db(), donation_id)
    form = DonationEditForm()
    form.amount.allow_negative = item.source == "adjustment"
    if form.validate_on_submit():
        with form_errors(form):
            correct_donation(
                db(), item, item.campaign, actor=request_actor(), amount=form.amount.money,
                received_at=local_datetime(form.received_at.data, item.campaign.timezone),
                donor_name=form.donor_name.data, message=form.message.data, is_public=form.is_public.data,
                reason=form.reason.data)
            db().commit()
            flash("Donation corrected.", "success")
            return redirect(url_for("admin.donation", donation_id=item.id))
    elif not form.is_submitted():
        _fill(form, item)
    return render_form("admin/donation.html", form, donation=item, edit_form=form,
                       refund_form=ReasonForm(formdata=None), action_form=ActionForm(formdata=None))


def _fill(form: DonationEditForm, item: Donation) -> None:
    form.process(data={
        "amount": Money(item.amount_minor, item.currency).plain(), "currency": item.currency,
        "received_at": as_local_input(item.received_at, item.campaign.timezone),
        "donor_name": item.donor_name or "", "message": item.message or "", "is_public": item.is_public})


@bp.post("/donations/<int:donation_id>/refund")
@requires("admin")
def donation_refund(donation_id: int) -> BaseResponse | tuple[str, int]:
    """Refund or reverse a donation: it stays in the ledger, marked refunded, with the reason."""
    item = get_donation(db(), donation_id)
    form = ReasonForm()
    if form.validate_on_submit():
        with form_errors(form, "reason"):
            refund_donation(db(), item, actor=request_actor(), reason=form.reason.data)
            db().commit()
            flash("Donation refunded; it stays in the ledger.", "success")
            return redirect(url_for("admin.donation", donation_id=item.id))
    edit_form = DonationEditForm(formdata=None)
    _fill(edit_form, item)
    return render_form("admin/donation.html", form, donation=item, refund_form=form,
                       action_form=ActionForm(formdata=None), edit_form=edit_form)


@bp.post("/donations/<int:donation_id>/confirm")
@requires("admin")
def donation_confirm(donation_id: int) -> BaseResponse:
    """Mark a pending donation as received."""
    item = get_donation(db(), donation_id)
    confirm_donation(db(), item, actor=request_actor())
    db().commit()
    flash("Donation confirmed.", "success")
    return redirect(url_for("admin.donation", donation_id=item.id))


@bp.get("/donations/export.csv")
@requires("viewer")
def donations_export() -> BaseResponse:
    """The ledger as CSV (one campaign with ?campaign=<id>), formula-like cells neutralised, streamed.

    Rows are read from the database a batch at a time and sent as they are written, so a
    million gifts download in seconds with flat memory, and the browser shows the progress.
    `?for=spreadsheet` starts the file with a UTF-8 byte order mark for Excel and LibreOffice.
    """
    wanted = request.args.get("campaign", "")
    campaign = None
    if wanted:
        # An unknown or malformed id is a 404, never the whole ledger in a file named as one campaign's.
        campaign_id = int(wanted) if wanted.isdecimal() and wanted.isascii() and len(wanted) <= 10 else 0
        campaign = db().get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ROW_ID else None
        if campaign is None:
            abort(404, "There is no such campaign.")
    slug = campaign.slug if campaign is not None else None
    name = f"donations-{slug or 'all'}-{utcnow():%Y%m%d}.csv"
    lines = _stream_csv(current_app.extensions["tracker_db"], campaign.id if campaign is not None else None,
                        bom=request.args.get("for") == "spreadsheet")
    return Response(lines, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _stream_csv(factory: Callable[[], Session], campaign_id: int | None, *, bom: bool) -> Iterator[str]:
    """The CSV on a session of its own, opened when the first chunk is asked for and closed with the
    response: a download that is never read, or abandoned halfway, holds no connection."""
    with factory() as session:
        yield from csv_lines(session, campaign_id, bom=bom)


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
@reads_only  # the preview writes nothing: other writers need not wait for it
def donations_import_preview() -> tuple[str, int]:
    """Check every row of the uploaded CSV in a transaction that is rolled back; show the result."""
    form = ImportUploadForm()
    report, confirm = None, None
    if form.validate_on_submit():
        with form_errors(form, "file"):
            upload = form.file.data
            text = decode_upload(upload.read() if upload else b"")
            # A processor's export is read as the tracker's own CSV first: the preview, the signature and
            # the import then concern exactly the rows shown.
            translated = translate_export(text, campaign=(form.campaign.data or "").strip(),
                                          mapping=parse_map((form.columns.data or "").splitlines()),
                                          source=form.source.data or "import")
            if translated is not None and translated.errors:
                report = ImportReport(errors=translated.errors)
                return render_form("admin/import.html", form, 422, report=report, confirm_form=None)
            if translated is not None:
                text = as_import_csv(translated)
            report = preview_import(db(), text, actor=request_actor())
            db().rollback()
            confirm = ImportConfirmForm(formdata=None, payload=base64.b64encode(text.encode()).decode("ascii"),
                                        signature=sign_upload(_key(), current_user.id, text))
    status = 422 if report is not None and not report.ok else 200
    page, code = render_form("admin/import.html", form, report=report, confirm_form=confirm)
    return page, max(code, status)


@bp.post("/donations/import/confirm")
@requires("admin")
def donations_import_confirm() -> BaseResponse | tuple[str, int]:
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
                flash(ngettext("Imported %(num)d donation", "Imported %(num)d donations", report.created)
                      + "; " + ngettext("%(num)d was already in the ledger.", "%(num)d were already in the ledger.",
                                        report.skipped), "success")
                return redirect(url_for("admin.donations"))
            db().rollback()
    else:
        upload_form.form_errors.append("The preview expired: upload the file again.")
    return render_form("admin/import.html", upload_form, 422, report=report, confirm_form=None)


def _latest_rates() -> list[ExchangeRate]:
    return list(db().scalars(select(ExchangeRate).order_by(ExchangeRate.as_of.desc(), ExchangeRate.id.desc())
                             .limit(200)))


@bp.get("/rates")
@requires("viewer")
def rates() -> str:
    """The latest exchange rates, and a form to add one."""
    return render_template("admin/rates.html", form=RateForm(), rates=_latest_rates())


@bp.post("/rates")
@requires("admin")
def rate_add() -> BaseResponse | tuple[str, int]:
    """Record a rate: 1 base = rate quote, as of a UTC time, from a source."""
    form = RateForm()
    if form.validate_on_submit():
        with form_errors(form, "rate"):
            as_of = form.as_of.data.replace(tzinfo=timezone.utc)
            entry = record_rate(db(), form.base.data, form.quote.data, form.rate.data, as_of,
                                form.source.data, request_actor())
            db().commit()
            flash(f"Rate saved: 1 {entry.base} = {entry.rate} {entry.quote}.", "success")
            return redirect(url_for("admin.rates"))
    return render_form("admin/rates.html", form, rates=_latest_rates())

