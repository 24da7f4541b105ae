"""Error answers: domain errors and HTTP errors as pages or JSON, never a traceback to the client."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from ..errors import DomainError
from .context import WRITE_METHODS, rollback

#: Paths outside /api/ that answer JSON, errors included (oEmbed consumers parse every answer).
JSON_PATHS = frozenset({"/oembed"})


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
        rollback()
        return error_response(exc.status, exc.message, exc.field)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Any, int]:
        rollback()
        return error_response(400, "The form has expired or was not sent from this site: reload and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        rollback()
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
        rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on our side. Nothing was saved.")
