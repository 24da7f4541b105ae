"""Payment methods: add, edit, reorder, show or hide; anything readers would see needs the password again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..accounts.operations import reauthenticate
from ..admin.blueprint import bp
from ..coins import payment_uri
from ..models import PaymentMethod, User
from ..qr import qr_data_uri
from ..web import db, request_actor
from ..web.access import checks_password, requires
from ..web.forms import ActionForm
from ..web.responses import form_errors, render_form
from .forms import MoveForm, PaymentMethodForm, ReauthenticationForm
from .operations import (
    PaymentMethodInput,
    ReauthenticationRequired,
    get_payment_method,
    list_payment_methods,
    move_payment_method,
    readers_would_see,
    save_payment_method,
)


def qr_preview(kind: str, coin: str, target: str, network: str) -> str | None:
    """A QR data URI of what a reader's wallet or camera would open, or None for e-mails."""
    if kind == "address":
        return qr_data_uri(payment_uri(coin, target, network=network))
    if kind == "link":
        return qr_data_uri(target)
    return None


def _as_input(method: PaymentMethod, **changes: Any) -> PaymentMethodInput:
    data = PaymentMethodInput(kind=method.kind, coin=method.coin, target=method.target, label=method.label,
                              network=method.network, active=method.active)
    return replace(data, **changes)


def _me() -> User:
    return db().get_one(User, current_user.id)


@bp.get("/payment-methods")
@requires("viewer")
def payment_methods() -> str:
    """Every payment method in the order readers see them, with QR previews."""
    methods = list_payment_methods(db(), active_only=False)
    return render_template("admin/payment_methods.html", methods=methods, action_form=ActionForm(),
                           move_form=MoveForm(), qr={m.id: qr_preview(m.kind, m.coin, m.target, m.network)
                                                     for m in methods})


@bp.route("/payment-methods/new", methods=["GET", "POST"])
@requires("admin")
@checks_password
def payment_method_new() -> Response | tuple[str, int]:
    """Add a payment method (validated by checksum; confirmed with the password)."""
    return _save(PaymentMethodForm(), None)


@bp.route("/payment-methods/<int:method_id>", methods=["GET", "POST"])
@requires("admin")
@checks_password
def payment_method_edit(method_id: int) -> Response | tuple[str, int]:
    """Edit a payment method; a change readers would see is shown old beside new and needs re-authentication."""
    method = get_payment_method(db(), method_id)
    return _save(PaymentMethodForm(obj=method), method)


def _save(form: PaymentMethodForm, method: PaymentMethod | None) -> Response | tuple[str, int]:
    """Validate; when readers would see the change, show it and ask for the password; then save."""
    data = None
    if form.validate_on_submit():
        with form_errors(form):
            data = form.to_input()
            proof = None
            if readers_would_see(data, method):
                if not form.confirmed.data:
                    form.confirmed.data = "1"
                    return _confirm_page(form, method, data)
                proof = reauthenticate(db(), _me(), form.password.data, form.code.data)
            saved = save_payment_method(db(), data, actor=request_actor(), method=method, proof=proof)
            db().commit()
            flash(f"{saved.label or saved.coin} saved.", "success")
            return redirect(url_for("admin.payment_methods"))
    if data is not None and (form.password.errors or form.code.errors):
        return _confirm_page(form, method, data)
    form.confirmed.data = ""
    return render_form("admin/payment_form.html", form, method=method)


def _confirm_page(form: PaymentMethodForm, method: PaymentMethod | None,
                  data: PaymentMethodInput) -> tuple[str, int]:
    form.password.data = form.code.data = ""
    return render_form("admin/payment_confirm.html", form, method=method, after=data,
                       qr=qr_preview(data.kind, data.coin, data.target, data.network),
                       needs_code=bool(_me().totp_secret))


@bp.post("/payment-methods/<int:method_id>/move")
@requires("admin")
@checks_password
def payment_method_move(method_id: int) -> Response | tuple[str, int]:
    """Move a method up or down the list readers see (confirmed with the password when it is shown)."""
    method = get_payment_method(db(), method_id)
    form = MoveForm()
    if form.validate_on_submit():
        with form_errors(form, "password"):
            proof = reauthenticate(db(), _me(), form.password.data, form.code.data) if form.password.data else None
            try:
                move_payment_method(db(), method, int(form.direction.data), actor=request_actor(), proof=proof)
            except ReauthenticationRequired:
                db().rollback()  # readers would see the new order: ask for the password first
                return _action_page(method, form, "move")
            db().commit()
            return redirect(url_for("admin.payment_methods"))
    if form.password.errors or form.code.errors:
        return _action_page(method, form, "move")
    return redirect(url_for("admin.payment_methods"))


@bp.post("/payment-methods/<int:method_id>/active")
@requires("admin")
@checks_password
def payment_method_toggle(method_id: int) -> Response | tuple[str, int]:
    """Show a method to readers or hide it; either changes what readers see, so the password confirms it."""
    method = get_payment_method(db(), method_id)
    form = ReauthenticationForm()
    if form.validate_on_submit() and form.password.data:
        with form_errors(form, "password"):
            proof = reauthenticate(db(), _me(), form.password.data, form.code.data)
            save_payment_method(db(), _as_input(method, active=not method.active), actor=request_actor(),
                                method=method, proof=proof)
            db().commit()
            flash(f"{method.label or method.coin} is now {'shown' if method.active else 'hidden'}.", "success")
            return redirect(url_for("admin.payment_methods"))
    return _action_page(method, form, "active")


def _action_page(method: PaymentMethod, form: ReauthenticationForm, action: str) -> tuple[str, int]:
    """The confirm step of a show, hide or move button: what changes, and the password field."""
    form.password.data = form.code.data = ""
    return render_form("admin/payment_action.html", form, method=method, action=action,
                       qr=qr_preview(method.kind, method.coin, method.target, method.network),
                       needs_code=bool(_me().totp_secret))
