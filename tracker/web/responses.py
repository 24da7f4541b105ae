"""Shared view helpers: domain errors shown next to form fields, 422 (or 409) on a refused form."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from flask import render_template
from flask_wtf import FlaskForm

from ..errors import Conflict, DomainError
from . import db


@contextmanager
def form_errors(form: FlaskForm, default_field: str | None = None) -> Iterator[None]:
    """Turn a domain refusal into an error next to its field; roll back so nothing is half-saved."""
    try:
        yield
    except DomainError as exc:
        db().rollback()
        message, name = exc.message, exc.field or default_field
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

