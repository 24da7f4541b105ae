"""A database that stops answering: readers keep the last good figure, writes get a clear 503, and
everything recovers by itself when the database is back (the attack run's outage case)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from factories import PASSWORD_HASH

from tracker import create_app, schema
from tracker.config import load_settings
from tracker.db import make_engine, make_sessionmaker
from tracker.demo import load_demo
from tracker.models import User

pytestmark = pytest.mark.slow


def app_on(url: str, instance: Any) -> Any:
    settings = load_settings(path=None, env={}, overrides={
        "environment": "testing", "instance_path": str(instance), "database.url": url,
        "security.secret_key": "test-secret-key-0123456789", "security.secure_cookies": False})
    app = create_app(settings)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_readers_get_the_last_good_answer_and_writes_a_clear_503(own_postgres, tmp_path, caplog):
    engine = make_engine(own_postgres.url)
    schema.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        load_demo(session)
        session.add(User(email="admin@example.org", password_hash=PASSWORD_HASH, role="admin"))
        session.commit()
    engine.dispose()
    instance = tmp_path / "instance"
    app = app_on(own_postgres.url, instance)
    client = app.test_client()
    good = {url: client.get(url) for url in ("/widget/demo.svg", "/widget/demo", "/api/v1/campaigns/demo")}
    assert all(r.status_code == 200 for r in good.values())
    admin = app.test_client()  # an admin signed in before the outage, in the middle of work
    assert admin.post("/admin/login", data={"email": "admin@example.org",
                                            "password": "correct horse battery staple"}).status_code == 302
    form = admin.get("/admin/donations/new")
    assert form.status_code == 200

    own_postgres.stop()
    own_postgres.wait_until_down()
    time.sleep(1.2)  # past the memo's second: every answer below had to ask the database
    caplog.set_level(logging.WARNING)
    # This process still has the answers in its memo; a worker started during the outage
    # (a second app) finds them on disk. Either way the reader sees the last good figure.
    fresh_worker = app_on(own_postgres.url, instance).test_client()
    for reader in (client, fresh_worker):
        for url, before in good.items():
            during = reader.get(url)
            assert during.status_code == 200, (url, during.status_code)
            assert during.data == before.data and "Stale" in during.headers["Warning"]
    never_seen = client.get("/widget/nothing.svg")
    assert never_seen.status_code == 503 and never_seen.mimetype == "image/svg+xml"
    assert never_seen.headers["Retry-After"] == "5"
    assert client.get("/widget/nothing.png").mimetype == "image/png"
    assert client.get("/api/v1/campaigns/nothing").get_json()["status"] == 503
    sign_in = client.post("/admin/login", data={"email": "admin@example.org",
                                                "password": "correct horse battery staple"})
    assert sign_in.status_code == 503 and int(sign_in.headers["Retry-After"]) >= 5  # the limiter may say later
    # The admin's pages and writes: a 503 in the admin's layout, not a 500. Drawing that page
    # asks who is signed in, which is a query; it used to fail a second time inside the handler.
    for method, url in (("get", "/admin/donations/new"), ("post", "/admin/donations/new"), ("get", "/admin/")):
        answer = getattr(admin, method)(url, data={"campaign": "1", "amount": "5", "currency": "USD",
                                                   "status": "confirmed", "form_key": "a" * 32})
        assert answer.status_code == 503, (method, url, answer.status_code)
        assert "nothing was saved" in answer.get_data(as_text=True)
    for _ in range(20):
        client.get("/support")
    outage_lines = [r for r in caplog.records if "not answering" in r.getMessage()]
    assert 1 <= len(outage_lines) <= 2, [r.getMessage() for r in outage_lines]  # not one per request
    assert not any(r.exc_info for r in caplog.records)  # no tracebacks

    own_postgres.start()
    back = client.get("/support")
    assert back.status_code == 200  # the pool reconnects by itself: no restart
    assert "Warning" not in client.get("/widget/demo.svg?theme=dark").headers
    signed_in = client.post("/admin/login", data={"email": "admin@example.org",
                                                  "password": "correct horse battery staple"})
    assert signed_in.status_code == 302
    assert admin.get("/admin/donations/new").status_code == 200  # still signed in: nothing was lost
    app.extensions["tracker_engine"].dispose()


def test_a_connection_lost_under_a_request_does_not_turn_its_answer_into_a_500(app):
    """Closing the request's session rolls back; on a connection the database dropped that raises."""
    from sqlalchemy import text

    from tracker.web.context import db

    with app.test_request_context("/widget/demo.png"):
        session = db()
        session.execute(text("SELECT 1"))
        session.connection().connection.dbapi_connection.close()  # what a server restart does to it
    # Leaving the context ran the teardown, which closed the session without raising.
    with app.test_request_context("/widget/demo.png"):
        assert db().execute(text("SELECT 1")).scalar() == 1  # the pool gives a good connection again
