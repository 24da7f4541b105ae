"""Reader-support tracker: donation goals, an exact ledger, support pages and embeddable widgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from . import web
from .config import Settings, load_settings
from .resources import STATIC, TEMPLATES

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build an app from `settings` (default: the config file and environment)."""
    settings = settings or load_settings(overrides=overrides)
    app = Flask(__name__, instance_path=str(Path(settings.instance_path).resolve()),
                template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.update(
        TRACKER_SETTINGS=settings,
        SECRET_KEY=settings.security.secret_key,
        TESTING=settings.environment == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.security.secure_cookies,
        # Browsers send the admin's cookies to /admin only, never with readers' pages.
        SESSION_COOKIE_PATH="/admin",
        REMEMBER_COOKIE_PATH="/admin",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.security.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    web.register_database(app, settings)
    web.register_proxy_fix(app, settings)
    web.register_extensions(app, settings)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    web.register_response_headers(app)
    web.register_template_helpers(app)
    return app
