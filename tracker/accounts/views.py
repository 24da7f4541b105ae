"""Back-office pages of accounts: signing in and out, two-factor codes, one's own password and sessions,
and (for owners) the users."""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..admin.blueprint import bp
from ..models import User
from ..qr import qr_data_uri
from ..web import db, request_actor, settings
from ..web.access import PENDING_TOTP, checks_password, public, requires, safe_next
from ..web.extensions import SignedInUser
from ..web.forms import ActionForm
from ..web.responses import form_errors, render_form
from .forms import (
    LoginForm,
    PasswordChangeForm,
    TotpDisableForm,
    TotpEnableForm,
    TotpForm,
    UserCreateForm,
    UserUpdateForm,
)
from .operations import (
    authenticate,
    change_password,
    close_session,
    create_user,
    disable_totp,
    enable_totp,
    finish_totp_sign_in,
    get_user,
    open_session,
    sign_out_everywhere,
    start_totp_enrolment,
    totp_uri,
    update_user,
)

#: Seconds between the password step and the code step before starting over.
TOTP_STEP_SECONDS = 300




def _sign_in(user: User) -> None:
    """Open a server-side session for this browser and put its token in the cookie."""
    token = open_session(db(), user, hours=settings().security.session_hours)
    login_user(SignedInUser(user, token))


def _signed_in(user: User, next_url: str | None) -> Response:
    session.pop(PENDING_TOTP, None)
    _sign_in(user)
    db().commit()  # last_login_at and the session row
    flash(f"Signed in as {user.email}.", "success")
    return redirect(safe_next(next_url) or url_for("admin.dashboard"))


def _me() -> User:
    return db().get_one(User, current_user.id)


@bp.route("/login", methods=["GET", "POST"])
@public
@checks_password
def login() -> Response | tuple[str, int]:
    """Sign in with e-mail and password; accounts with two-factor continue to the code step."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("admin.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(db(), form.email.data, form.password.data)
        if user is None:
            form.form_errors.append("Wrong e-mail or password.")
        elif user.totp_secret:
            session[PENDING_TOTP] = {"id": user.id, "version": user.session_version, "email": user.email,
                                     "until": time.time() + TOTP_STEP_SECONDS}
            return redirect(url_for("admin.login_code", next=safe_next(form.next.data)))
        else:
            return _signed_in(user, form.next.data)
    return render_form("admin/login.html", form)


@bp.route("/login/code", methods=["GET", "POST"])
@public
@checks_password
def login_code() -> Response | tuple[str, int]:
    """Second sign-in step: the current code from the authenticator app."""
    pending = session.get(PENDING_TOTP)
    if not pending or pending.get("until", 0) < time.time():
        session.pop(PENDING_TOTP, None)
        return redirect(url_for("admin.login", next=safe_next(request.args.get("next"))))
    form = TotpForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = finish_totp_sign_in(db(), pending["id"], pending["version"], form.code.data)
        if user is not None:
            return _signed_in(user, form.next.data)
        form.code.errors = ["This code is wrong or has expired: enter the current one."]
    return render_form("admin/login_code.html", form)


@bp.post("/logout")
@requires("viewer", self_service=True)
def logout() -> Response:
    """Sign out of this browser: its session ends on the server too (a copied cookie stops working)."""
    close_session(db(), current_user.token)
    db().commit()
    logout_user()
    flash("Signed out.", "success")
    return redirect(url_for("admin.login"))


@bp.get("/account")
@requires("viewer", self_service=True)
def account() -> str:
    """One's own sign-in settings: password, two-factor, sessions."""
    return render_template("admin/account.html", me=_me(), password_form=PasswordChangeForm(),
                           disable_form=TotpDisableForm(), action_form=ActionForm())


@bp.post("/account/password")
@requires("viewer", self_service=True)
@checks_password
def account_password() -> Response | tuple[str, int]:
    """Change one's password; every other session ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with form_errors(form, "new_password"):
            user = change_password(db(), _me(), form.current_password.data, form.new_password.data,
                                   actor=request_actor())
            _sign_in(user)  # every session ended with the old password; this browser gets a new one
            db().commit()
            flash("Password changed; other sessions were signed out.", "success")
            return redirect(url_for("admin.account"))
    return render_form("admin/account.html", form, me=_me(), password_form=form,
                       disable_form=TotpDisableForm(formdata=None), action_form=ActionForm(formdata=None))


@bp.post("/account/sign-out-everywhere")
@requires("viewer", self_service=True)
def account_sign_out_everywhere() -> Response:
    """End every session of this account, on every device, this one included."""
    sign_out_everywhere(db(), _me(), actor=request_actor())
    db().commit()
    logout_user()
    flash("Every session of your account was signed out.", "success")
    return redirect(url_for("admin.login"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@requires("viewer", self_service=True)
def account_two_factor() -> Response | tuple[str, int]:
    """Turn on two-factor sign-in: scan the QR code, then type the code the app shows."""
    me = _me()
    if me.totp_secret:
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for("admin.account"))
    # The secret waits on the server (user.totp_pending_secret), never in the readable cookie,
    # and is forgotten when this browser signs out.
    form = TotpEnableForm()
    if request.method == "GET":
        start_totp_enrolment(db(), me)  # shown once; the same secret until confirmed or signed out
        db().commit()
    elif form.validate_on_submit():
        with form_errors(form, "code"):
            enable_totp(db(), me, form.password.data, form.code.data, actor=request_actor())
            db().commit()
            flash("Two-factor sign-in is on.", "success")
            return redirect(url_for("admin.account"))
    secret = me.totp_pending_secret
    if secret is None:  # a form sent after signing out (or from another session's sign-out)
        flash("The set-up started again: scan the new code.", "info")
        return redirect(url_for("admin.account_two_factor"))
    uri = totp_uri(secret, me.email, settings().site.name)
    return render_form("admin/two_factor.html", form, secret=secret, qr=qr_data_uri(uri))


@bp.post("/account/two-factor/off")
@requires("viewer", self_service=True)
@checks_password
def account_two_factor_off() -> Response | tuple[str, int]:
    """Turn two-factor sign-in off (password and a current code needed)."""
    form = TotpDisableForm()
    if form.validate_on_submit():
        with form_errors(form, "code"):
            disable_totp(db(), _me(), form.password.data, form.code.data, actor=request_actor())
            db().commit()
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("admin.account"))
    return render_form("admin/account.html", form, me=_me(), password_form=PasswordChangeForm(formdata=None),
                       disable_form=form, action_form=ActionForm(formdata=None))


def _page(form: UserCreateForm, status: int = 200, **forms: UserUpdateForm) -> tuple[str, int]:
    users = list(db().scalars(select(User).order_by(User.email)))
    update_forms = {u.id: forms.get(str(u.id)) or UserUpdateForm(
        formdata=None, role=u.role, active="1" if u.active else "0") for u in users}
    return render_form("admin/users.html", form, status, users=users, update_forms=update_forms)


@bp.get("/users")
@requires("owner")
def users() -> tuple[str, int]:
    """Every account with its role; a form to add one."""
    return _page(UserCreateForm(formdata=None))


@bp.post("/users")
@requires("owner")
def user_create() -> Response | tuple[str, int]:
    """Create an account with a role."""
    form = UserCreateForm()
    if form.validate_on_submit():
        with form_errors(form):
            user = create_user(db(), form.email.data, form.password.data, role=form.role.data,
                               actor=request_actor())
            db().commit()
            flash(f"Account {user.email} created.", "success")
            return redirect(url_for("admin.users"))
    return _page(form)


@bp.post("/users/<int:user_id>")
@requires("owner")
def user_update(user_id: int) -> Response | tuple[str, int]:
    """Change an account's role or deactivate it (deactivation signs it out everywhere)."""
    user = get_user(db(), user_id)
    form = UserUpdateForm()
    if form.validate_on_submit():
        with form_errors(form, "role"):
            update_user(db(), user, role=form.role.data, active=form.active.data == "1", actor=request_actor())
            db().commit()
            flash(f"{user.email} updated.", "success")
            return redirect(url_for("admin.users"))
    page, _status = _page(UserCreateForm(formdata=None), **{str(user_id): form})
    return page, getattr(form, "refused_status", 422)

