"""Donations: filtered list, add (with the exchange rate shown first), correct, refund, confirm, export."""

from __future__ import annotations

import uuid

from flask import Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ..campaigns import list_campaigns
from ..ledger import confirm_donation, correct_donation, record_donation, refund_donation
from ..models import Campaign, Donation, utcnow
from ..money import Money
from ..rates import convert
from ..reports import find_donations
from ..transfer import csv_text
from ..web import MAX_ROW_ID, db, request_actor
from .access import requires
from .blueprint import bp
from .forms import (
    ActionForm,
    DonationEditForm,
    DonationFilterForm,
    DonationForm,
    ReasonForm,
    options,
    as_local_input,
    local_datetime,
)
from .responses import form_errors, load_donation, render_form


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
    page = find_donations(db(), form.to_filter(), form.page.data or 1)
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
            conversion = convert(db(), form.amount.money, campaign.currency, received)
            if form.confirms(conversion):
                recorded = record_donation(
                    db(), campaign, form.amount.money, actor=request_actor(), external_id=form.external_id(),
                    status=form.status.data, received_at=received, donor_name=form.donor_name.data,
                    message=form.message.data, is_public=form.is_public.data)
                db().commit()
                flash("Donation recorded." if recorded.created else
                      "This donation was already recorded: nothing was added.", "success")
                return redirect(url_for("admin.donations", campaign=campaign.id))
    return render_form("admin/donation_new.html", form, conversion=conversion)


@bp.route("/donations/<int:donation_id>", methods=["GET", "POST"])
@requires("viewer")
def donation(donation_id: int) -> BaseResponse | tuple[str, int]:
    """One donation; admins correct it here (amount, date, donor), always with a reason."""
    item = load_donation(donation_id)
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
    item = load_donation(donation_id)
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
    item = load_donation(donation_id)
    confirm_donation(db(), item, actor=request_actor())
    db().commit()
    flash("Donation confirmed.", "success")
    return redirect(url_for("admin.donation", donation_id=item.id))


@bp.get("/donations/export.csv")
@requires("viewer")
def donations_export() -> Response:
    """The ledger as CSV (one campaign with ?campaign=<id>), formula-like cells neutralised."""
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
    return Response(csv_text(db(), slug), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
