"""Engine and sessions per app: SQLite (WAL, foreign keys) by default, PostgreSQL in production."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: Execution option asking SQLite to take the write lock when the transaction begins.
WRITE_INTENT = "tracker_write"


#: Seconds to wait for a new connection, and for a connection from the pool.
CONNECT_TIMEOUT = 5
#: Longest a statement may run (PostgreSQL), and longest a writer waits for SQLite's lock. Both
#: stay well below gunicorn's worker timeout (30 s), so a slow or locked database becomes a
#: clear 503 instead of a killed worker.
STATEMENT_TIMEOUT = 10
#: Longest a transition waits for a row another request holds (PostgreSQL's lock_timeout).
LOCK_TIMEOUT = 8


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for `url`, with the per-dialect settings this project relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    # hide_parameters: an error message never carries the values (donor names, messages) into the log.
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10,
                           pool_timeout=CONNECT_TIMEOUT, hide_parameters=True,
                           connect_args={"connect_timeout": CONNECT_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Set per connection (not in the URL), so a URL's own `options` (a search_path) stay.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT * 1000}")
            cursor.execute(f"SET lock_timeout = {LOCK_TIMEOUT * 1000}")
            cursor.execute("SET idle_in_transaction_session_timeout = 60000")
        dbapi_connection.commit()

    return engine


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        if not Path(database).exists():
            # Readable by its owner only (donors' names and messages live there); SQLite gives
            # its -wal and -shm files the same permissions.
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = create_engine(url, echo=echo, hide_parameters=True, connect_args={"timeout": STATEMENT_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that a
        # writing transaction can start with BEGIN IMMEDIATE (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {STATEMENT_TIMEOUT * 1000}")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that read first and writes later cannot wait for the lock
        # (SQLITE_BUSY_SNAPSHOT); one that announced its write waits up to busy_timeout.
        if connection.get_execution_options().get(WRITE_INTENT):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


T = TypeVar("T")


def lock(session: Session, obj: T) -> T:
    """Read `obj`'s row again and keep it locked until the transaction ends.

    A state change reads what it checks through this (`SELECT … FOR UPDATE` on PostgreSQL),
    so of N concurrent requests each sees the previous one's result, and exactly one wins a
    transition. On SQLite the writing transaction already holds the database's write lock
    (BEGIN IMMEDIATE), so the plain re-read is enough there.
    """
    state = inspect(obj)
    mapper = state.mapper
    key = dict(zip((column.key for column in mapper.primary_key), state.identity or (), strict=True))
    query = select(mapper.class_).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()


def upsert_for(session: Session) -> Any:
    """The dialect's INSERT with ON CONFLICT support (PostgreSQL's or SQLite's)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def begin_write(session: Session) -> None:
    """Declare, before the first statement, that this transaction writes (SQLite locks now)."""
    session.connection(execution_options={WRITE_INTENT: True})


@contextmanager
def session_scope(factory: sessionmaker[Session], *, write: bool = False) -> Iterator[Session]:
    """One transaction for a CLI command or a worker: commit on success, roll back on error."""
    session = factory()
    try:
        if write:
            begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
