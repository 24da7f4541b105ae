"""Shared fixtures: one clean, migrated database per test, on SQLite and (when given) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from factories import CLI, PASSWORD, PASSWORD_HASH, at, clean_database, new_campaign, new_donation  # noqa: F401
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from tracker import create_app, schema
from tracker.accounts.operations import SERVER_SHELL
from tracker.config import load_settings
from tracker.db import make_engine, make_sessionmaker
from tracker.demo import load_demo
from tracker.models import AuditEvent, Campaign, Donation, PaymentMethod, User
from tracker.payments.operations import PaymentMethodInput, save_payment_method

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if PG_URL:
        # In CI an unreachable PostgreSQL must fail the run, not skip half the suite.
        engine = make_engine(PG_URL)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure to connect ends the run
            raise pytest.UsageError(f"TRACKER_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}") from exc
        finally:
            engine.dispose()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if PG_URL:
        terminalreporter.write_line("database back-ends tested: SQLite and PostgreSQL")
    else:
        terminalreporter.write_line(
            "PostgreSQL was not tested: set TRACKER_TEST_DATABASE_URL to run the suite on it too")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for this test session: a SQLite file or a PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "tracker.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"test_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{name}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def clean_db(engine: Engine) -> Engine:
    clean_database(engine)
    return engine


@pytest.fixture()
def session(clean_db: Engine) -> Iterator[Session]:
    """A session on a clean database, for domain tests; the test commits when it needs to."""
    factory = make_sessionmaker(clean_db)
    with factory() as session:
        yield session


@pytest.fixture()
def settings_factory(database_url: str, tmp_path: Path) -> Callable[..., Any]:
    def build(**overrides: Any) -> Any:
        values = {"environment": "testing", "instance_path": str(tmp_path / "instance"),
                  "database.url": database_url, "security.secret_key": "test-secret-key-0123456789",
                  "site.name": "Example News", "security.secure_cookies": False}
        values.update(overrides)
        return load_settings(path=None, env={}, overrides=values)
    return build


@pytest.fixture()
def app(clean_db: Engine, settings_factory: Callable[..., Any]) -> Iterator[Any]:
    """An app on a clean database, CSRF off except in tests that turn it on."""
    app = create_app(settings_factory())
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.extensions["tracker_engine"].dispose()


@pytest.fixture()
def csrf_app(clean_db: Engine, settings_factory: Callable[..., Any]) -> Iterator[Any]:
    """An app with CSRF protection on, as in production."""
    app = create_app(settings_factory())
    yield app
    app.extensions["tracker_engine"].dispose()


@pytest.fixture()
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture()
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture()
def app_session(app: Any) -> Iterator[Session]:
    """A session bound to the app's engine, for setting up data in web tests."""
    with app.extensions["tracker_db"]() as session:
        yield session


@pytest.fixture()
def make_user(app_session: Session) -> Callable[..., User]:
    def make(email: str = "admin@example.org", role: str = "admin", **extra: Any) -> User:
        user = User(email=email, password_hash=PASSWORD_HASH, role=role, **extra)
        app_session.add(user)
        app_session.commit()
        return user
    return make


class AuthActions:
    """Sign in and out through the real login form."""

    def __init__(self, client: Any, make_user: Callable[..., User]) -> None:
        self._client, self._make_user = client, make_user

    def login(self, email: str = "admin@example.org", role: str = "admin", create: bool = True) -> Any:
        if create:
            self._make_user(email=email, role=role)
        return self._client.post("/admin/login", data={"email": email, "password": PASSWORD})

    def logout(self) -> Any:
        return self._client.post("/admin/logout")


@pytest.fixture()
def auth(client: Any, make_user: Callable[..., User]) -> AuthActions:
    return AuthActions(client, make_user)


@pytest.fixture()
def make_campaign(session: Session) -> Callable[..., Campaign]:
    return lambda *args, **kwargs: new_campaign(session, *args, **kwargs)


@pytest.fixture()
def make_donation(session: Session) -> Callable[..., Donation]:
    return lambda *args, **kwargs: new_donation(session, *args, **kwargs)


@pytest.fixture()
def demo(session: Session) -> Campaign:
    """The demo campaign: 5,000 USD a month, 2,160 USD raised, a milestone at 2,500 USD."""
    campaign = load_demo(session)
    session.commit()
    return campaign


@pytest.fixture()
def admin(client: Any, auth: Any) -> Any:
    """A client signed in as an admin."""
    response = auth.login("admin@example.org", role="admin")
    assert response.status_code == 302, response.data
    return client


@pytest.fixture()
def count(app_session: Session) -> Callable[[Any], int]:
    """Rows of a model, read fresh from the database."""
    def rows(model: Any) -> int:
        app_session.expire_all()
        app_session.rollback()
        return app_session.scalar(select(func.count()).select_from(model)) or 0
    return rows


@pytest.fixture()
def donations(app_session: Session) -> Callable[[], list[Donation]]:
    def load() -> list[Donation]:
        app_session.rollback()
        app_session.expire_all()
        return list(app_session.scalars(select(Donation).order_by(Donation.id)))
    return load


@pytest.fixture()
def events(app_session: Session) -> Callable[[str], list[AuditEvent]]:
    def load(action: str) -> list[AuditEvent]:
        app_session.rollback()
        app_session.expire_all()
        return list(app_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.id)))
    return load


@pytest.fixture()
def add_method(session: Any) -> Callable[..., PaymentMethod]:
    """Add a payment method through the domain function (validated, audited) and commit."""
    def add(coin: str = "BTC", target: str = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", *,
            kind: str = "address", label: str = "", active: bool = True) -> PaymentMethod:
        method = save_payment_method(session, PaymentMethodInput(
            kind=kind, coin=coin, target=target, label=label, active=active), actor=CLI, proof=SERVER_SHELL)
        session.commit()
        return method
    return add


@pytest.fixture()
def own_postgres() -> Iterator[Any]:
    """A PostgreSQL server of this test's own (it may stop and start it); skipped without the server programs."""
    import shutil
    import tempfile

    from pg_server import PostgresServer

    # Not under pytest's tmp_path: that folder is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    try:
        server = PostgresServer(folder)
    except (RuntimeError, OSError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL server programs here: {exc}")
    server.start()
    yield server
    try:
        server.stop()
    except Exception:  # noqa: BLE001 - already stopped by the test
        pass
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def make_user_in_session(session: Session) -> Callable[..., User]:
    """Add a user through the domain-test session (no app needed)."""
    def make(email: str = "owner@example.org", role: str = "owner") -> User:
        user = User(email=email, password_hash=PASSWORD_HASH, role=role)
        session.add(user)
        session.commit()
        return user
    return make
