"""Admin pages for outgoing webhooks: endpoints, their deliveries and attempts, "send again"."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..admin.blueprint import bp
from ..models import WebhookEndpoint
from ..web import db, request_actor, settings
from ..web.access import requires
from ..web.forms import ActionForm
from ..web.responses import form_errors, render_form
from .delivery import (
    add_endpoint,
    attempts_of,
    delete_endpoint,
    get_endpoint,
    recent_deliveries,
    send_again,
    set_active,
)
from .forms import EndpointForm


def _list(form: EndpointForm, status: int = 200) -> tuple[str, int]:
    endpoints = list(db().query(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return render_form("admin/webhooks.html", form, status, endpoints=endpoints, action_form=ActionForm())


@bp.get("/webhooks")
@requires("viewer")
def webhooks() -> tuple[str, int]:
    """Registered endpoints; admins can add one."""
    return _list(EndpointForm(formdata=None))


@bp.post("/webhooks")
@requires("admin")
def webhook_add() -> Response | tuple[str, int]:
    """Register an endpoint and show its secret, once."""
    form = EndpointForm()
    if form.validate_on_submit():
        with form_errors(form, "url"):
            endpoint = add_endpoint(db(), form.url.data or "", list(form.events.data or []), actor=request_actor(),
                                    description=form.description.data or "", settings=settings())
            db().commit()
            return render_template("admin/webhook_created.html", endpoint=endpoint), 201
    return _list(form, 422)


@bp.get("/webhooks/<int:endpoint_id>")
@requires("viewer")
def webhook(endpoint_id: int) -> str:
    """One endpoint: its last deliveries, each attempt's answer and latency."""
    endpoint = get_endpoint(db(), endpoint_id)
    deliveries = recent_deliveries(db(), endpoint)
    return render_template("admin/webhook.html", endpoint=endpoint, deliveries=deliveries,
                           attempts=attempts_of(db(), deliveries), action_form=ActionForm())


@bp.post("/webhooks/<int:endpoint_id>/active")
@requires("admin")
def webhook_toggle(endpoint_id: int) -> Response:
    """Switch an endpoint off, or on again (which clears its failure)."""
    form = ActionForm()
    endpoint = get_endpoint(db(), endpoint_id)
    if form.validate_on_submit():
        set_active(db(), endpoint, not endpoint.active, actor=request_actor())
        db().commit()
        flash("Endpoint switched on." if endpoint.active else "Endpoint switched off.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
@requires("admin")
def webhook_delete(endpoint_id: int) -> Response:
    """Remove an endpoint and its delivery history."""
    form = ActionForm()
    endpoint = get_endpoint(db(), endpoint_id)
    if form.validate_on_submit():
        delete_endpoint(db(), endpoint, actor=request_actor())
        db().commit()
        flash("Endpoint removed.", "success")
        return redirect(url_for("admin.webhooks"))
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
@requires("admin")
def webhook_resend(delivery_id: int) -> Response:
    """Send a delivery again (same webhook-id, so the receiver can tell it is a repeat)."""
    form = ActionForm()
    delivery = send_again(db(), delivery_id, actor=request_actor()) if form.validate_on_submit() else None
    if delivery is None:
        return redirect(url_for("admin.webhooks"))
    db().commit()
    flash("Queued to be sent again.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=delivery.endpoint_id))
