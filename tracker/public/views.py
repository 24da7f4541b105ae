"""Reader-facing pages: the support page and campaign pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..campaigns import list_campaigns
from ..progress import campaign_progress
from ..web import db

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> Response:
    """The site's front page is the support page."""
    return redirect(url_for("public.support"))


@bp.get("/support")
def support() -> str:
    """Active campaigns with their progress."""
    session = db()
    campaigns = list_campaigns(session, statuses=("active",))
    progress = {c.id: campaign_progress(session, c) for c in campaigns}
    return render_template("public/support.html", campaigns=campaigns, progress=progress)
