"""Flask extensions (CSRF, Babel, Login, Limiter) and how each is set up for this app."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Response
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect

from ..accounts.operations import session_user
from ..config import Settings
from ..models import MAX_ROW_ID, User, role_allows
from . import limit_storage
from .context import DATABASE_AWAY, db, settings

#: Extensions are created once and bound to each app in create_app (Flask's init_app pattern).
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

ADMIN_PREFIX = "/admin"


class SignedInUser(UserMixin):
    """The Flask-Login view of a User (models stay free of Flask).

    The id carries the user's session version: bumping it ("log out everywhere", a new
    password, deactivation) makes every existing session cookie stop loading.
    """

    def __init__(self, user: User, token: str) -> None:
        self.id, self.email, self.role = user.id, user.email, user.role
        self.session_version = user.session_version
        self.has_totp = bool(user.totp_secret)
        #: The token of this browser's session row (accounts.open_session).
        self.token = token

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}:{self.token}"

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role` (viewer < admin < owner)."""
        return role_allows(self.role, role)


def load_signed_in_user(token: str) -> SignedInUser | None:
    """The user a session cookie names, if that session is still open (see accounts.session_user)."""
    parts = token.split(":")
    if len(parts) != 3 or not (parts[0].isdecimal() and parts[1].isdecimal()) or int(parts[0]) > MAX_ROW_ID:
        return None
    if g.get(DATABASE_AWAY):
        return None  # the 503 page of a database outage shows no one signed in rather than a 500
    user = session_user(db(), int(parts[0]), int(parts[1]), parts[2])
    return SignedInUser(user, parts[2]) if user is not None else None


class AdminOnlySessionInterface(SecureCookieSessionInterface):
    """Cookie sessions exist only under /admin.

    Readers' pages, widgets and images must set no cookie and stay cacheable by any CDN,
    so outside /admin nothing is saved and no `Vary: Cookie` is added, even when an
    extension (Flask-Login's remember-me hook) glanced at the session.
    """

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not request.path.startswith(ADMIN_PREFIX):
            return
        super().save_session(app, session, response)


def select_locale() -> str:
    """`?locale=`, else the browser's best match among the site's locales, else the default."""
    config = settings()
    wanted = request.args.get("locale", "").replace("-", "_")
    if wanted in config.site.locales:
        return wanted
    if wanted and wanted.split("_")[0] in config.site.locales:
        return wanted.split("_")[0]
    return request.accept_languages.best_match(config.site.locales) or config.site.default_locale


def register_extensions(app: Flask, config: Settings) -> None:
    """Bind the extensions to `app` with this tracker's settings."""
    app.session_interface = AdminOnlySessionInterface()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_locale=config.site.default_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_signed_in_user)
    login_manager.login_view = "admin.login"
    login_manager.session_protection = "basic"
    # Counters every process shares: Redis when configured (several hosts), else a SQLite file
    # in instance/ that every worker of this host opens (web/limit_storage.py). If Redis stops
    # answering, each process counts in memory until it is back, rather than failing sign-in.
    if config.redis.url:
        app.config["RATELIMIT_STORAGE_URI"] = config.redis.url
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_timeout": 1, "socket_connect_timeout": 1}
        app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    else:
        app.config["RATELIMIT_STORAGE_URI"] = f"{limit_storage.SCHEME}://{Path(app.instance_path) / 'limits.db'}"
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    # Several trackers may share one Redis: each site counts its own sign-in attempts.
    app.config["RATELIMIT_KEY_PREFIX"] = "tracker-" + hashlib.sha256(config.site.url.encode()).hexdigest()[:12]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)
