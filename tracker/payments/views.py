"""Payment methods: add, edit, reorder, deactivate; a new address needs the password (and code) again."""

from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..accounts.operations import check_reauthentication
from ..admin.blueprint import bp
from ..coins import payment_uri
from ..models import PaymentMethod, User
from ..qr import qr_data_uri
from ..web import db, request_actor
from ..web.access import checks_password, requires
from ..web.forms import ActionForm
from ..web.responses import form_errors, render_form
from .forms import MoveForm, PaymentMethodForm
from .operations import (
    PaymentMethodInput,
    get_payment_method,
    list_payment_methods,
    move_payment_method,
    new_target_of,
    save_payment_method,
)


def qr_preview(kind: str, coin: str, target: str, network: str) -> str | None:
    """A QR data URI of what a reader's wallet or camera would open, or None for e-mails."""
    if kind == "address":
        return qr_data_uri(payment_uri(coin, target, network=network))
    if kind == "link":
        return qr_data_uri(target)
    return None


def _as_input(method: PaymentMethod, **changes: object) -> PaymentMethodInput:
    data = PaymentMethodInput(kind=method.kind, coin=method.coin, target=method.target, label=method.label,
                              network=method.network, active=method.active)
    return replace(data, **changes)  # type: ignore[arg-type]


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
    """Edit a payment method; a changed address is shown old beside new and needs re-authentication."""
    method = get_payment_method(db(), method_id)
    return _save(PaymentMethodForm(obj=method), method)


def _save(form: PaymentMethodForm, method: PaymentMethod | None) -> Response | tuple[str, int]:
    """Validate, ask for re-authentication when readers would see a new address, then save."""
    new_target = None
    if form.validate_on_submit():
        with form_errors(form):
            data = form.to_input()
            new_target = new_target_of(data, method)
            if new_target is not None and not form.confirmed.data:
                form.confirmed.data = "1"
                return _confirm_page(form, method, new_target)
            if new_target is not None:
                check_reauthentication(db().get_one(User, current_user.id), form.password.data, form.code.data)
            saved = save_payment_method(db(), data, actor=request_actor(), method=method)
            db().commit()
            flash(f"{saved.label or saved.coin} saved.", "success")
            return redirect(url_for("admin.payment_methods"))
    if new_target is not None and (form.password.errors or form.code.errors):
        return _confirm_page(form, method, new_target)
    form.confirmed.data = ""
    return render_form("admin/payment_form.html", form, method=method)


def _confirm_page(form: PaymentMethodForm, method: PaymentMethod | None, new_target: str) -> tuple[str, int]:
    form.password.data = form.code.data = ""
    return render_form("admin/payment_confirm.html", form, method=method, new_target=new_target,
                       qr=qr_preview(form.kind.data, form.coin.data or "", new_target, form.network.data),
                       needs_code=bool(db().get_one(User, current_user.id).totp_secret))


@bp.post("/payment-methods/<int:method_id>/move")
@requires("admin")
def payment_method_move(method_id: int) -> Response:
    """Move a method up or down the list readers see."""
    form = MoveForm()
    if form.validate_on_submit():
        move_payment_method(db(), get_payment_method(db(), method_id), int(form.direction.data),
                            actor=request_actor())
        db().commit()
    return redirect(url_for("admin.payment_methods"))


@bp.post("/payment-methods/<int:method_id>/active")
@requires("admin")
def payment_method_toggle(method_id: int) -> Response:
    """Hide a method from readers (deactivate) or show it again; the address itself is unchanged."""
    method = get_payment_method(db(), method_id)
    save_payment_method(db(), _as_input(method, active=not method.active), actor=request_actor(), method=method)
    db().commit()
    flash(f"{method.label or method.coin} is now {'shown' if method.active else 'hidden'}.", "success")
    return redirect(url_for("admin.payment_methods"))
