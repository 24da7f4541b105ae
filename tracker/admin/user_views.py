"""Users (owner only): create accounts, set roles, deactivate; the last owner always stays."""

from __future__ import annotations

from flask import flash, redirect, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..models import User
from ..users import create_user, update_user
from ..web import db, request_actor
from .access import requires
from .blueprint import bp
from .forms import UserCreateForm, UserUpdateForm
from .responses import form_errors, load_user, render_form


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
    user = load_user(user_id)
    form = UserUpdateForm()
    if form.validate_on_submit():
        with form_errors(form, "role"):
            update_user(db(), user, role=form.role.data, active=form.active.data == "1", actor=request_actor())
            db().commit()
            flash(f"{user.email} updated.", "success")
            return redirect(url_for("admin.users"))
    page, _status = _page(UserCreateForm(formdata=None), **{str(user_id): form})
    return page, getattr(form, "refused_status", 422)
