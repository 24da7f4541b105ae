"""Error answers in each route's own type (page, JSON, SVG, PNG, script), never a traceback.

An error inside a publisher's article must still be what the article asked for: an `<img>`
of the widget gets an image saying what is wrong, the embed script a script comment, the
API JSON. A database that does not answer is a 503 with `Retry-After` (readers of the
widget get its last good answer first, see web/caching.py), logged once per minute and kind.
"""

from __future__ import annotations

import io
from functools import lru_cache
from html import escape
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException

from ..errors import DomainError
from ..resources import PNG_FONT
from .caching import last_good_answer
from .context import DATABASE_AWAY, WRITE_METHODS, rollback
from .logs import outage_note

#: PostgreSQL SQLSTATEs of a transaction that lost a race (deadlock, serialization): try again.
RETRY_STATES = frozenset({"40P01", "40001", "55P03"})
#: Seconds a client is told to wait when the database does not answer.
RETRY_AFTER = 5

#: Paths outside /api/ that answer JSON, errors included (oEmbed consumers parse every answer).
JSON_PATHS = frozenset({"/oembed"})


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or request.path in JSON_PATHS or (
        request.accept_mimetypes.best == "application/json")


def answer_kind() -> str:
    """What this route answers when all is well: "svg", "png", "js", "json" or "html"."""
    path = request.path
    for suffix, kind in ((".svg", "svg"), (".png", "png"), (".js", "js")):
        if path.endswith(suffix):
            return kind
    return "json" if wants_json() else "html"


def error_svg(message: str) -> str:
    """A small image saying what is wrong, for an `<img>` of the widget or a QR code."""
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="360" height="40" viewBox="0 0 360 40" role="img">'
            f'<title>{escape(message)}</title><rect width="360" height="40" rx="6" fill="#f6f8fa"/>'
            f'<text x="12" y="25" font-family="system-ui,sans-serif" font-size="12" fill="#57606a">'
            f'{escape(message[:60])}</text></svg>')


@lru_cache(maxsize=32)
def error_png(message: str) -> bytes:
    """The same as a PNG (drawn once per message: only error texts of this module reach it)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (360, 40), "#f6f8fa")
    font = ImageFont.truetype(str(PNG_FONT), size=12)  # the German texts have umlauts
    ImageDraw.Draw(image).text((12, 25), message[:60], font=font, fill="#57606a",
                               anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def error_response(status: int, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> tuple[Any, int]:
    """The error answer in this route's own type; never kept by a cache."""
    kind = answer_kind()
    if kind == "json":
        body: dict[str, Any] = {"error": message, "status": status}
        if field:
            body["field"] = field
        response = jsonify(body)
    elif kind == "svg":
        response = Response(error_svg(message), mimetype="image/svg+xml")
    elif kind == "png":
        # Drawn from a handful of fixed texts (statuses), never from what the request sent.
        response = Response(error_png(_generic(status)), mimetype="image/png")
    elif kind == "js":
        response = Response(f"/* {message.replace('*/', '')} */\n", mimetype="text/javascript")
    else:
        # The back office's errors keep its layout (navigation, signed-in user); readers' keep theirs.
        layout = "admin/layout.html" if request.blueprint == "admin" or request.path.startswith("/admin/") \
            else "base.html"
        page = render_template(f"errors/{status if status in PAGES else 500}.html", message=message, status=status,
                               layout=layout)
        response = Response(page, mimetype="text/html")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response, status


#: Statuses with a page of their own in templates/errors/.
PAGES = frozenset({400, 403, 404, 405, 409, 413, 422, 429, 500, 503})


def page_text(status: int) -> str:
    """What a person is told on an error page when nothing more specific is known, in their language."""
    # Werkzeug's own descriptions ("The requested URL was not found on the server. If you
    # entered the URL manually…") are English developer text; Flask-Limiter's is "10 per 1 minute".
    texts = {400: gettext("The request could not be understood."),
             403: gettext("You are not allowed to see this page."),
             404: gettext("There is no page at this address. It may have moved, or the link is mistyped."),
             405: gettext("This page cannot be used that way."),
             409: gettext("This conflicts with a change made at the same moment: nothing was saved; try again."),
             413: gettext("What was sent is too large."),
             422: gettext("What was sent could not be used."),
             429: gettext("Too many requests from your address: wait a minute and try again."),
             503: gettext("Temporarily unavailable: try again in a moment.")}
    return texts.get(status, gettext("Something went wrong on our side. Nothing was saved."))


def _http_message(exc: HTTPException) -> str:
    """The exception's own text when our code wrote one, else the translated text for its status."""
    if exc.code == 429 or not exc.description or exc.description == type(exc).description:
        return page_text(exc.code or 500)
    return exc.description


def _generic(status: int) -> str:
    texts = {404: gettext("Not found"), 429: gettext("Too many requests: try again in a minute"),
             503: gettext("Temporarily unavailable: try again in a moment")}
    return texts.get(status, gettext("This image cannot be shown"))




def database_unavailable(exc: Exception) -> bool:
    """True when `exc` means the database is not answering (as opposed to refusing a statement)."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or type(exc.orig).__name__ in (
        "OperationalError", "InterfaceError")) and getattr(exc.orig, "sqlstate", None) not in RETRY_STATES


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
        rollback()
        return error_response(exc.status, exc.message, exc.field)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Any, int]:
        rollback()
        return error_response(400, gettext("The form has expired or was not sent from this site: "
                                           "reload and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        rollback()
        # The exception's own headers (Allow on a 405, Retry-After on a 429) go with the answer.
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        response, _status = error_response(exc.code, _http_message(exc), headers=headers)
        return response, exc.code

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def database_error(exc: Exception) -> Any:
        rollback()
        if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRY_STATES:
            return error_response(409, gettext("Another change to the same data happened at the same moment: "
                                               "nothing was saved; try again."))
        if not database_unavailable(exc):
            return server_error(exc)
        # Parameters are never in the message (the engines hide them): no donor name reaches the log.
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        outage_note(f"database:{type(exc).__name__}", f"the database is not answering: {reason}")
        g.setdefault(DATABASE_AWAY, True)
        stale = last_good_answer()  # readers of the widget get its last good figure
        if stale is not None:
            return stale
        return error_response(503, gettext("The database is not answering: nothing was saved. "
                                           "Try again in a moment."),
                              headers={"Retry-After": str(RETRY_AFTER)})

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> tuple[Any, int]:
        # Roll back first: whatever half-done work raised must not be committed later.
        rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, page_text(500))
