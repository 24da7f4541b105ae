"""The dashboard: progress of active campaigns, latest donations, daily totals."""

from __future__ import annotations

from flask import render_template

from ..campaigns import list_campaigns
from ..progress import campaign_progress, period_label
from ..reports import daily_totals, latest_donations
from ..web import db
from .access import requires
from .blueprint import bp
from .display import daily_chart


@bp.get("/")
@requires("viewer")
def dashboard() -> str:
    """Where each active campaign stands, what came in lately, and a chart of daily totals."""
    session = db()
    campaigns = list_campaigns(session, statuses=("active",))
    rows = [(campaign, campaign_progress(session, campaign), daily_chart(daily_totals(session, campaign)))
            for campaign in campaigns]
    return render_template("admin/dashboard.html", rows=rows, latest=latest_donations(session),
                           period_label=period_label)
