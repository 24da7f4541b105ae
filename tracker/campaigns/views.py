"""Campaigns: list, create, edit, archive; embed codes, widget preview and "Set raised to…"."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from ..admin.blueprint import bp
from ..donations.ledger import adjust_raised_to
from ..errors import NotFound
from ..models import Campaign, utcnow
from ..web import db, request_actor, settings
from ..web.access import requires
from ..web.caching import runtime
from ..web.embeds import embed_codes
from ..web.forms import ActionForm
from ..web.responses import form_errors, render_form
from .forms import CampaignForm, RaisedToForm, StatusForm, campaign_form, language_name
from .operations import InvalidCampaign, campaign_problems, get_campaign, list_campaigns, save_campaign, set_status
from .progress import campaign_progress


@bp.get("/campaigns")
@requires("viewer")
def campaigns() -> str:
    """Every campaign with its current progress."""
    session = db()
    items = list_campaigns(session)
    return render_template("admin/campaigns.html", campaigns=items,
                           progress={c.id: campaign_progress(session, c) for c in items})


@bp.route("/campaigns/new", methods=["GET", "POST"])
@requires("admin")
def campaign_new() -> Response | tuple[str, int]:
    """Create a campaign."""
    form = _form()
    campaign = _save(form, None)
    if campaign is not None:
        flash(f"Campaign “{campaign.title}” created.", "success")
        return redirect(url_for("admin.campaign", slug=campaign.slug))
    return _form_page(form, None)


def _form() -> CampaignForm:
    site = settings().site
    return campaign_form(site.locales, site.default_locale)


def _form_page(form: CampaignForm, item: Campaign | None) -> tuple[str, int]:
    return render_form("admin/campaign_form.html", form, campaign=item,
                       languages={locale: language_name(locale) for locale in form.extra_locales})


def _save(form: CampaignForm, item: Campaign | None) -> Campaign | None:
    """Save a submitted form, committed; else None with every problem shown next to its field."""
    if not form.is_submitted():
        return None
    if not form.validate():
        # The domain's rules too, on what parsed: every problem of the form on one submit.
        form.show_problems(campaign_problems(db(), form.to_input(item), item))
        return None
    with form_errors(form):
        try:
            campaign = save_campaign(db(), form.to_input(item), actor=request_actor(), campaign=item)
        except InvalidCampaign as exc:
            db().rollback()
            form.show_problems(exc.problems)
            return None
        db().commit()
        return campaign
    return None


@bp.get("/campaigns/<slug>")
@requires("viewer")
def campaign(slug: str) -> str:
    """One campaign: progress, widget preview, embed codes and actions."""
    item = get_campaign(db(), slug)
    return _campaign_page(item, raised_form=RaisedToForm(formdata=None, currency=item.currency))[0]


def route_exists(path: str) -> bool:
    """True when this app answers GET `path` (the widget is built by another part of the app)."""
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def widget_preview_url(item: Campaign) -> str:
    """The widget's address with its current version in the query: always the figures of now."""
    # The public URL alone is cached by the browser (and this process's memo) for a while, so
    # the preview showed old figures after a donation or an edit. A token of everything the
    # widget depends on makes a new URL whenever what it shows changes; widgets ignore `v`.
    path = f"/widget/{quote(item.slug, safe='')}"
    try:
        version = runtime().versions.one(item.slug, utcnow())
    except NotFound:
        return path  # a draft or archived campaign: its widget answers "not found" anyway
    token = hashlib.sha256(repr(version.key()).encode()).hexdigest()[:16]
    return f"{path}?v={token}"


def _campaign_page(item: Campaign, raised_form: RaisedToForm) -> tuple[str, int]:
    widget_exists = route_exists(f"/widget/{item.slug}")
    return render_form("admin/campaign.html", raised_form, campaign=item, raised_form=raised_form,
                       progress=campaign_progress(db(), item), status_form=StatusForm(formdata=None),
                       action_form=ActionForm(formdata=None), widget_exists=widget_exists,
                       preview_url=widget_preview_url(item) if widget_exists else "",
                       embeds=embed_codes(item.slug, item.title))


@bp.route("/campaigns/<slug>/edit", methods=["GET", "POST"])
@requires("admin")
def campaign_edit(slug: str) -> Response | tuple[str, int]:
    """Edit a campaign's goal, period, dates, milestones and display options."""
    item = get_campaign(db(), slug)
    form = _form()
    if not form.is_submitted():
        form.load(item)
    elif _save(form, item) is not None:
        flash("Campaign saved.", "success")
        return redirect(url_for("admin.campaign", slug=item.slug))
    return _form_page(form, item)


@bp.post("/campaigns/<slug>/status")
@requires("admin")
def campaign_status(slug: str) -> Response:
    """Activate, archive or return a campaign to draft."""
    item = get_campaign(db(), slug)
    form = StatusForm()
    if form.validate_on_submit():
        set_status(db(), item, form.status.data, actor=request_actor())
        db().commit()
        flash(f"The campaign is now {item.status}.", "success")
    else:
        flash("Choose a status.", "error")
    return redirect(url_for("admin.campaign", slug=item.slug))


@bp.post("/campaigns/<slug>/raised")
@requires("admin")
def campaign_raised_to(slug: str) -> Response | tuple[str, int]:
    """"Set raised to…": record an adjustment of the difference, with a reason."""
    item = get_campaign(db(), slug)
    form = RaisedToForm(currency=item.currency)
    if form.validate_on_submit():
        with form_errors(form, "amount"):
            entry = adjust_raised_to(db(), item, form.amount.value, actor=request_actor(),
                                     reason=form.reason.data)
            db().commit()
            flash("Nothing to adjust: the total already is that." if entry is None
                  else "Adjustment recorded.", "success")
            return redirect(url_for("admin.campaign", slug=item.slug))
    return _campaign_page(item, raised_form=form)
