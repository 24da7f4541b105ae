"""The audit log: who changed what, when, from where, with before and after."""

from __future__ import annotations

from flask import render_template, request

from ..reports import audit_entities, find_audit_events
from ..web import db
from .access import requires
from .blueprint import bp
from .forms import AuditFilterForm, options


@bp.get("/audit")
@requires("admin")
def audit_log() -> tuple[str, int]:
    """Filterable list of audit events (entity, action, user, dates)."""
    form = AuditFilterForm(request.args)
    form.entity.choices = options([("", "any"), *[(e, e) for e in audit_entities(db())]])
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None), 422
    page = find_audit_events(db(), form.to_filter(), form.page.data or 1)
    return render_template("admin/audit.html", form=form, page=page), 200
