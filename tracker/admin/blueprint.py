"""The admin blueprint every area's pages join; an endpoint that declares no role is refused."""

from __future__ import annotations

from flask import Blueprint
from flask.wrappers import Response

from ..web.access import enforce_declared_roles, form_bodies_only

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(enforce_declared_roles)
bp.before_request(form_bodies_only)


@bp.after_request
def never_stored(response: Response) -> Response:
    """Admin pages and exports hold donors' data: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response
