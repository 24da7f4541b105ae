"""The admin blueprint every area's pages join; an endpoint that declares no role is refused."""

from __future__ import annotations

from flask import Blueprint

from ..web.access import enforce_declared_roles, form_bodies_only

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(enforce_declared_roles)
bp.before_request(form_bodies_only)
