"""The request's settings, database session and audit actor."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..audit import Actor
from ..config import Settings
from ..db import begin_write, make_engine, make_sessionmaker

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
F = TypeVar("F", bound=Callable[..., Any])
#: Attribute `reads_only` sets on a view.
READS_ONLY = "tracker_reads_only"


def settings() -> Settings:
    """The running app's settings."""
    return current_app.config["TRACKER_SETTINGS"]


#: Set on `g` once this request found the database away: nothing more is asked of it, so the
#: error page can be drawn (the admin layout asks who is signed in, which is a query).
DATABASE_AWAY = "tracker_database_away"


def db() -> Session:
    """This request's session: created on first use, closed (rolled back if uncommitted) after."""
    if "db_session" not in g:
        session = current_app.extensions["tracker_db"]()
        if request and request.method in WRITE_METHODS and not _reads_only():
            begin_write(session)
        g.db_session = session
    return g.db_session


def reads_only(view: F) -> F:
    """Mark a POST view that only reads (the import preview): it takes no write lock on SQLite."""
    setattr(view, READS_ONLY, True)
    return view


def _reads_only() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, READS_ONLY, False))


def rollback() -> None:
    """Roll back this request's session, if it has one (before an error page is rendered)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def request_actor() -> Actor:
    """The signed-in user as an audit Actor, with the client's address."""
    if getattr(current_user, "is_authenticated", False):
        return Actor(name=current_user.email, user_id=current_user.id, ip_address=request.remote_addr)
    return Actor(name="anonymous", ip_address=request.remote_addr)


def register_database(app: Flask, config: Settings) -> None:
    """One engine per app; one session per request, closed when the request ends."""
    engine = make_engine(config.database.url, echo=config.database.echo)
    app.extensions["tracker_engine"] = engine
    app.extensions["tracker_db"] = make_sessionmaker(engine)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            try:
                session.close()
            except DBAPIError:
                # The database went away under this request (it has already answered, with
                # the last good figure or a 503): closing rolls back on a dead connection,
                # which SQLAlchemy has now invalidated. Raising here turned the answer into
                # a 500 (found by bench/rehearsal.py's PostgreSQL restart).
                pass
