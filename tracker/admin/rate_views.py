"""Exchange rates: entered by hand with a date and a source."""

from __future__ import annotations

from datetime import timezone

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..models import ExchangeRate
from ..rates import record_rate
from ..web import db, request_actor
from .access import requires
from .blueprint import bp
from .forms import RateForm
from .responses import form_errors, render_form


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
def rate_add() -> Response | tuple[str, int]:
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
