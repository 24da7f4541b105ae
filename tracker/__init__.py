"""Reader-support tracker: donation goals, an exact ledger, support pages and embeddable widgets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # Flask and the web plumbing load only when an app is built: `tracker --help` stays fast
    from flask import Flask

    from .config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build an app from `settings` (default: the config file and environment)."""
    from flask import Flask

    from .config import load_settings
    from .resources import STATIC, TEMPLATES
    from .web.context import register_database
    from .web.errors import register_error_handlers
    from .web.extensions import register_extensions
    from .web.headers import register_proxy_fix, register_response_headers
    from .web.routing import register_converters
    from .web.templating import register_template_helpers

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
    register_database(app, settings)
    register_queue(app, settings)
    register_proxy_fix(app, settings)
    register_extensions(app, settings)
    register_converters(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_response_headers(app)
    register_template_helpers(app)
    # Imported here: prometheus-client decides at import whether it counts for several
    # processes, and `tracker serve` says so (PROMETHEUS_MULTIPROC_DIR) only before it forks.
    from .ops.views import register_metrics

    register_metrics(app)
    return app


def register_queue(app: Flask, settings: Settings) -> None:
    """The background queue: work made by a request is queued the moment its transaction commits.
    Under tests jobs run at once, in the request's thread (Huey's immediate mode)."""
    from .jobs import Queue

    queue = Queue(settings, app.extensions["tracker_db"], immediate=settings.environment == "testing")
    queue.watch_commits(app.extensions["tracker_db"])
    app.extensions["tracker_queue"] = queue


def register_blueprints(app: Flask) -> None:
    """The readers' pages, the widget, the API and the back office with every area's pages."""
    # Imported here, not at the top: building an app is the only reason to load the views, and
    # the web plumbing they import never imports them back. Each area adds its pages to the
    # admin blueprint when its views module is imported, so all of them come before it is
    # registered.
    from .accounts import views as _accounts  # noqa: F401
    from .admin import views as _admin  # noqa: F401
    from .admin.blueprint import bp as admin_bp
    from .api.views import bp as api_bp
    from .campaigns import views as _campaigns  # noqa: F401
    from .chains import views as _chains  # noqa: F401
    from .donations import views as _donations  # noqa: F401
    from .payments import views as _payments  # noqa: F401
    from .processors.views import bp as hooks_bp
    from .public.views import bp as public_bp
    from .webhooks import views as _webhooks  # noqa: F401
    from .widget.views import bp as widget_bp

    for blueprint in (public_bp, widget_bp, api_bp, hooks_bp, admin_bp):
        app.register_blueprint(blueprint)
