"""Shared view helpers: domain errors shown next to form fields, 422 on a refused form, loaders."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from flask import abort, render_template
from flask_wtf import FlaskForm

from ..campaigns import get_campaign
from ..errors import Conflict, DomainError
from ..models import Campaign, Donation, User
from ..money import MoneyError
from ..web import db


@contextmanager
def form_errors(form: FlaskForm, default_field: str | None = None) -> Iterator[None]:
    """Turn a domain refusal into an error next to its field; roll back so nothing is half-saved."""
    try:
        yield
    except (DomainError, MoneyError) as exc:
        db().rollback()
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        name = getattr(exc, "field", None) or default_field
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
        form.refused_status = 409 if isinstance(exc, Conflict) else 422


def render_form(template: str, form: FlaskForm, status: int = 200, **context: Any) -> tuple[str, int]:
    """Render a form page: 422 (or the domain's 409) when the form was refused."""
    if form.errors or form.form_errors:
        status = getattr(form, "refused_status", 422)
    return render_template(template, form=form, **context), status


def load_campaign(slug: str) -> Campaign:
    return get_campaign(db(), slug)


def load_donation(donation_id: int) -> Donation:
    donation = db().get(Donation, donation_id)
    if donation is None:
        abort(404, "There is no such donation.")
    return donation


def load_user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404, "There is no such user.")
    return user
