"""The web layer's shared plumbing: request sessions, extensions, errors, headers, template helpers."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Response
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .audit import Actor
from .config import Settings
from .db import begin_write, make_engine, make_sessionmaker
from .errors import DomainError
from .models import User
from .money import MoneyError, format_money

#: Extensions are created once and bound to each app in create_app (Flask's init_app pattern).
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

ADMIN_PREFIX = "/admin"
#: Paths outside /api/ that answer JSON, errors included (oEmbed consumers parse every answer).
JSON_PATHS = frozenset({"/oembed"})
#: Integer primary keys are 32-bit on PostgreSQL; SQLite overflows past 64 bits.
MAX_ROW_ID = 2**31 - 1
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Content-Security-Policy of every page unless a view sets its own (the widget does).
DEFAULT_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")


def settings() -> Settings:
    """The running app's settings."""
    return current_app.config["TRACKER_SETTINGS"]


def db() -> Session:
    """This request's session: created on first use, closed (rolled back if uncommitted) after."""
    if "db_session" not in g:
        session = current_app.extensions["tracker_db"]()
        if request and request.method in WRITE_METHODS:
            begin_write(session)
        g.db_session = session
    return g.db_session


def request_actor() -> Actor:
    """The signed-in user as an audit Actor, with the client's address."""
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        return Actor(name=current_user.email, user_id=current_user.id, ip_address=request.remote_addr)
    return Actor(name="anonymous", ip_address=request.remote_addr)


class SignedInUser(UserMixin):
    """The Flask-Login view of a User (models stay free of Flask).

    The id carries the user's session version: bumping it ("log out everywhere", a new
    password, deactivation) makes every existing session cookie stop loading.
    """

    def __init__(self, user: User) -> None:
        self.id, self.email, self.role = user.id, user.email, user.role
        self.session_version = user.session_version
        self.has_totp = bool(user.totp_secret)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role` (viewer < admin < owner)."""
        order = {"viewer": 0, "admin": 1, "owner": 2}
        return order[self.role] >= order[role]


def load_signed_in_user(token: str) -> SignedInUser | None:
    try:
        user_id, version = (int(part) for part in token.split(":"))
    except ValueError:
        return None
    user = db().get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return SignedInUser(user)


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


def register_database(app: Flask, config: Settings) -> None:
    engine = make_engine(config.database.url, echo=config.database.echo)
    app.extensions["tracker_engine"] = engine
    app.extensions["tracker_db"] = make_sessionmaker(engine)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def register_proxy_fix(app: Flask, config: Settings) -> None:
    hops = config.security.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


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
    app.session_interface = AdminOnlySessionInterface()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_locale=config.site.default_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_signed_in_user)
    login_manager.login_view = "admin.login"
    login_manager.session_protection = "basic"
    app.config["RATELIMIT_STORAGE_URI"] = config.redis.url or "memory://"
    # Several trackers may share one Redis: each site counts its own sign-in attempts.
    app.config["RATELIMIT_KEY_PREFIX"] = "tracker-" + hashlib.sha256(config.site.url.encode()).hexdigest()[:12]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)


class RowIdConverter(IntegerConverter):
    """`<int:…>` in this app's URLs names a row: a number past MAX_ROW_ID is a 404 from the router."""

    # Handed to the database, /admin/donations/99999999999999999999 was an OverflowError on
    # SQLite (a 500), not "no such donation".

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .public import bp as public_bp
    from .widget import bp as widget_bp

    # Before any rule is added: converters are looked up when a rule joins the map.
    app.url_map.converters["int"] = RowIdConverter
    for blueprint in (public_bp, widget_bp, api_bp, admin_bp):
        app.register_blueprint(blueprint)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or request.path in JSON_PATHS or (
        request.accept_mimetypes.best == "application/json")


def error_response(status: int, message: str, field: str | None = None) -> tuple[Any, int]:
    if wants_json():
        body: dict[str, Any] = {"error": message, "status": status}
        if field:
            body["field"] = field
        return jsonify(body), status
    return render_template(f"errors/{status}.html", message=message, status=status), status


def refuse_nul_characters() -> None:
    """Refuse a NUL character anywhere in the path, query or form: no text here may hold one."""
    # PostgreSQL cannot store or even compare text holding NUL (the driver raises), so
    # /c/a%00b or a donor name with "\x00" was a 500 there while SQLite answered normally.
    # Uploaded files are not form values: the CSV import checks its own bytes.
    values = [request.path, *(value for _name, value in request.args.items(multi=True))]
    if request.method in WRITE_METHODS:
        values += [value for _name, value in request.form.items(multi=True)]
    if any("\x00" in value for value in values):
        raise BadRequest("The request contains a NUL character, which no text here may hold.")


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_nul_characters)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> tuple[Any, int]:
        _rollback()
        return error_response(exc.status, exc.message, exc.field)

    @app.errorhandler(MoneyError)
    def money_error(exc: MoneyError) -> tuple[Any, int]:
        _rollback()
        return error_response(400, str(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Any, int]:
        _rollback()
        return error_response(400, "The form has expired or was not sent from this site: reload and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        _rollback()
        if wants_json():
            # JSON names the real status (oEmbed's 501 for an unoffered format), not the page shown for it.
            return error_response(exc.code, exc.description or exc.name)
        code = exc.code if exc.code in (400, 403, 404, 405, 409, 413, 422, 429) else 400
        if exc.code >= 500:
            code = 500
        return error_response(code, exc.description or exc.name)[0], exc.code

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> tuple[Any, int]:
        # Roll back first: whatever half-done work raised must not be committed later.
        _rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on our side. Nothing was saved.")


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def register_response_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    @app.template_filter("money")
    def money_filter(value: Any, trim_whole: bool = True) -> str:
        return format_money(value, str(get_locale() or "en"), trim_whole=trim_whole)

    @app.context_processor
    def site_context() -> dict[str, Any]:
        return {"site": settings().site, "get_locale": get_locale}
