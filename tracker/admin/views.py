"""The back office: sign-in, campaigns, donations, payment methods, rates, users, audit."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
