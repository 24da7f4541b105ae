"""The back office's shell: the dashboard and the audit log (each area's pages live in its own package)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import get_locale

from ..audit import audit_entities, find_audit_events
from ..campaigns.operations import list_campaigns
from ..campaigns.progress import campaign_progress, period_label
from ..donations.queries import daily_totals, latest_donations
from ..web import db
from ..web.access import requires
from ..web.forms import options
from ..web.query import page_cursors
from .blueprint import bp
from .chart import daily_chart
from .forms import AuditFilterForm


@bp.get("/")
@requires("viewer")
def dashboard() -> str:
    """Where each active campaign stands, what came in lately, and a chart of daily totals."""
    session = db()
    campaigns = list_campaigns(session, statuses=("active",))
    locale = str(get_locale() or "en")
    rows = [(campaign, campaign_progress(session, campaign),
             daily_chart(daily_totals(session, campaign), locale=locale))
            for campaign in campaigns]
    return render_template("admin/dashboard.html", rows=rows, latest=latest_donations(session),
                           period_label=period_label)


@bp.get("/audit")
@requires("admin")
def audit_log() -> tuple[str, int]:
    """Filterable list of audit events (entity, action, user, dates)."""
    form = AuditFilterForm(request.args)
    form.entity.choices = options([("", "any"), *[(e, e) for e in audit_entities(db())]])
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None), 422
    older, newer = page_cursors()
    page = find_audit_events(db(), form.to_filter(), older_than=older, newer_than=newer)
    return render_template("admin/audit.html", form=form, page=page), 200

