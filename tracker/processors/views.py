"""The processors' webhook endpoints (`/hooks/…`) and the admin's Connections page."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from ..admin.blueprint import bp as admin_bp
from ..models import utcnow
from ..web import db
from ..web.access import requires
from ..web.context import settings
from ..web.errors import RETRY_AFTER, database_unavailable
from ..web.extensions import csrf
from ..web.forms import ActionForm
from ..web.logs import outage_note
from ..web.urls import public_base_url
from . import btcpay
from .common import MAX_BODY, Refused
from .inbox import (
    MODULES,
    connection_settings,
    get_event,
    latest_events,
    process_event,
    receive,
    verify,
    waiting_events,
)

log = logging.getLogger("tracker.processors")

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
# Processors sign their requests; they have no session and no CSRF token.
csrf.exempt(bp)

#: URL path of each connection's endpoint, by inbox name.
PATHS = {"stripe": "stripe", "btcpay": "btcpay", "kofi": "kofi", "github": "github-sponsors", "standard": "standard"}
TITLES = {"stripe": "Stripe", "btcpay": "BTCPay Server", "kofi": "Ko-fi", "github": "GitHub Sponsors",
          "standard": "Standard Webhooks"}
#: Seconds the webhook itself waits for BTCPay's invoice before leaving it to the follow-up job.
INLINE_FETCH_TIMEOUT = 3


def _raw_body() -> bytes:
    """The request body exactly as sent, at most MAX_BODY bytes, however it is framed."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise Refused(415, f"bodies encoded as {encoding!r} are not accepted")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Refused(413, f"the body is larger than {MAX_BODY} bytes")
    # Read one byte more than allowed: a chunked body announces no length.
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Refused(413, f"the body is larger than {MAX_BODY} bytes")
    return body


@bp.url_value_preprocessor
def capture_body(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Read the raw body before anything else can (the app's NUL check reads forms, which drains the stream)."""
    # URL value preprocessors run before every before_request function, the app's included.
    try:
        g.hook_body = _raw_body()
    except Refused as exc:
        g.hook_refusal = exc


def _answer(processor: str) -> tuple[Response, int]:
    """Verify, store and apply one delivery; 2xx once it is stored, 4xx with the reason when refused."""
    now = utcnow()
    try:
        if "hook_refusal" in g:
            raise g.hook_refusal
        body: bytes = g.hook_body
        delivery = verify(settings(), processor, request.headers, body, now)
    except Refused as exc:
        # Logged, not stored: a refused request writes nothing, so forgeries cannot fill the database.
        log.warning("%s webhook refused (%s): %s", processor, exc.status, exc.reason)
        return jsonify(error=exc.reason), exc.status
    fetch = _inline_invoice(delivery) if processor == "btcpay" else None
    try:
        event, created = receive(db(), settings(), processor, delivery, body, now=now, fetch_invoice=fetch)
        db().commit()
    except SQLAlchemyError as exc:
        try:
            db().rollback()
        except SQLAlchemyError:
            pass  # the connection is gone; the request's teardown closes the session
        if database_unavailable(exc):
            # An outage: one line a minute, not a traceback per delivery (the processor sends
            # it again, and its retries during a long outage would fill the log).
            outage_note(f"database:{type(exc).__name__}",
                        f"{processor} webhook {delivery.event_id} not stored: the database is not answering")
        else:
            log.exception("%s webhook %s could not be stored", processor, delivery.event_id)
        response = jsonify(error="the event could not be stored now; send it again")
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response, 503
    log.info("%s webhook %s (%s): %s %s", processor, delivery.event_id, delivery.event_type,
             event.state if created else "already received", event.reason)
    return jsonify(event=event.id, state=event.state, replay=not created), 200


def _inline_invoice(delivery: Any) -> Any:
    """Read the BTCPay invoice once, before the transaction opens, so no lock waits on the network."""
    if delivery.event_type not in btcpay.NEEDS_INVOICE:
        return None
    payload = delivery.payload if isinstance(delivery.payload, dict) else {}
    store, invoice_id = payload.get("storeId"), payload.get("invoiceId")
    if not isinstance(store, str) or not isinstance(invoice_id, str):
        return None
    try:
        invoice = btcpay.fetch_invoice(settings().processors.btcpay, store, invoice_id,
                                       timeout=INLINE_FETCH_TIMEOUT)
    except btcpay.FetchFailed as exc:
        reason = str(exc)

        def failed(_store: str, _invoice: str) -> Any:
            raise btcpay.FetchFailed(reason)
        return failed
    return lambda _store, _invoice: invoice


@bp.post("/stripe")
def stripe_hook() -> tuple[Response, int]:
    """Stripe's events (Stripe-Signature)."""
    return _answer("stripe")


@bp.post("/btcpay")
def btcpay_hook() -> tuple[Response, int]:
    """BTCPay Server's invoice events (BTCPay-Sig)."""
    return _answer("btcpay")


@bp.post("/kofi")
def kofi_hook() -> tuple[Response, int]:
    """Ko-fi's payments (verification token in the data field)."""
    return _answer("kofi")


@bp.post("/github-sponsors")
def github_hook() -> tuple[Response, int]:
    """GitHub Sponsors' sponsorship events (X-Hub-Signature-256)."""
    return _answer("github")


@bp.post("/standard")
def standard_hook() -> tuple[Response, int]:
    """Any Standard Webhooks sender."""
    return _answer("standard")


# --- The admin's Connections page -----------------------------------------------------------

def _configured(processor: str) -> bool:
    config = connection_settings(settings(), processor)
    return bool(getattr(config, "verification_token", "") if processor == "kofi" else config.webhook_secret)


@admin_bp.get("/connections")
@requires("viewer")
def connections() -> str:
    """Each processor's endpoint URL to paste, whether it is set up, its latest deliveries, what waits."""
    base = public_base_url()
    session = db()
    rows = [{"name": name, "title": TITLES[name], "url": f"{base}/hooks/{PATHS[name]}",
             "configured": _configured(name),
             "default_campaign": connection_settings(settings(), name).default_campaign,
             "events": latest_events(session, name)}
            for name in MODULES]
    return render_template("admin/connections.html", connections=rows, waiting=waiting_events(session),
                           form=ActionForm())


@admin_bp.post("/connections/events/<int:event_id>/process")
@requires("admin")
def connection_event_process(event_id: int) -> BaseResponse:
    """Apply a stored event again (after adding a rate or the campaign it names)."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(gettext("The form has expired: reload the page and try again."), "error")
        return redirect(url_for("admin.connections"))
    session = db()
    event = get_event(session, event_id)
    fetch = None
    if event.processor == "btcpay":
        config = settings().processors.btcpay

        def fetch(store: str, invoice: str) -> Any:
            return btcpay.fetch_invoice(config, store, invoice, timeout=INLINE_FETCH_TIMEOUT)
    process_event(session, settings(), event, fetch_invoice=fetch)
    session.commit()
    flash(gettext("Event processed again: %(state)s.", state=event.state), "success")
    return redirect(url_for("admin.connections"))
