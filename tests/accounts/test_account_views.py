"""Two-factor sign-in, users (owner only, last owner kept), rates, audit log, dashboard, CSRF."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pyotp
from admin_helpers import csrf_token, field_errors
from sqlalchemy import select

from tracker.models import Campaign, ExchangeRate, User

PASSWORD = "correct horse battery staple"


def test_enrol_two_factor_and_sign_in_with_a_code(app, client, auth, app_session, events):
    auth.login()
    page = client.get("/admin/account/two-factor")
    assert page.status_code == 200
    assert b'<img class="qr" src="data:image/svg+xml;base64,' in page.data
    secret = re.search(rb'<code class="secret">([A-Z2-7]+)</code>', page.data).group(1).decode()
    with client.session_transaction() as cookie:  # the secret is never in the (readable) cookie
        assert secret not in str(dict(cookie))
    wrong = client.post("/admin/account/two-factor", data={"password": PASSWORD, "code": "123456"})
    assert wrong.status_code == 422 and "does not match" in field_errors(wrong.data, "code")
    no_password = client.post("/admin/account/two-factor", data={"password": "guess", "code": code_at(secret, -1)})
    assert no_password.status_code == 422 and "not your password" in field_errors(no_password.data, "password")
    # Each code is accepted once (RFC 6238 replay protection), so the steps below use the
    # previous, current and next 30-second codes, all inside the accepted window.
    assert client.post("/admin/account/two-factor",
                       data={"password": PASSWORD, "code": code_at(secret, -1)}).status_code == 302
    assert app_session.scalar(select(User.totp_secret)) == secret
    assert len(events("user.totp_enable")) == 1
    assert "totp_secret" not in str(events("user.totp_enable")[0].after)

    auth.logout()
    step = client.post("/admin/login?next=/admin/rates", data={"email": "admin@example.org", "password": PASSWORD,
                                                               "next": "/admin/rates"})
    assert step.headers["Location"].startswith("/admin/login/code")
    assert client.get("/admin/").status_code == 302  # the password alone signs nobody in
    bad = client.post("/admin/login/code", data={"code": "000000"})
    assert bad.status_code == 422
    replayed = client.post("/admin/login/code", data={"code": code_at(secret, -1), "next": "/admin/rates"})
    assert replayed.status_code == 422
    done = client.post("/admin/login/code", data={"code": code_at(secret, 0), "next": "/admin/rates"})
    assert done.headers["Location"] == "/admin/rates"
    assert client.get("/admin/").status_code == 200

    off = client.post("/admin/account/two-factor/off", data={"password": PASSWORD, "code": "000000"})
    assert off.status_code == 422
    off = client.post("/admin/account/two-factor/off", data={"password": PASSWORD, "code": code_at(secret, 1)})
    assert off.status_code == 302
    app_session.rollback()
    assert app_session.scalar(select(User.totp_secret)) is None


def test_code_step_without_a_password_step_starts_over(client):
    response = client.post("/admin/login/code", data={"code": "123456"})
    assert response.headers["Location"].startswith("/admin/login")


def test_owner_manages_users_and_the_last_owner_stays(client, auth, app_session, events):
    auth.login("owner@example.org", role="owner")
    assert client.get("/admin/users").status_code == 200
    short = client.post("/admin/users", data={"email": "new@example.org", "password": "short", "role": "viewer"})
    assert short.status_code == 422 and "at least 12" in field_errors(short.data, "password")
    created = client.post("/admin/users", data={"email": "New@Example.org", "password": PASSWORD, "role": "viewer"})
    assert created.status_code == 302
    new = app_session.scalar(select(User).where(User.email == "new@example.org"))
    assert new.role == "viewer"
    owner = app_session.scalar(select(User).where(User.email == "owner@example.org"))
    last = client.post(f"/admin/users/{owner.id}", data={"role": "admin", "active": "1"})
    assert last.status_code == 409 and b"last owner" in last.data
    demote_self = client.post(f"/admin/users/{owner.id}", data={"role": "owner", "active": "0"})
    assert demote_self.status_code == 409
    assert client.post(f"/admin/users/{new.id}", data={"role": "admin", "active": "0"}).status_code == 302
    app_session.rollback()
    assert (new.role, new.active) == ("admin", False)
    assert len(events("user.update")) == 1


def test_admins_cannot_manage_users(client, auth):
    auth.login()
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data={"email": "x@example.org", "password": PASSWORD,
                                             "role": "owner"}).status_code == 403


def test_rates_are_entered_by_hand_and_listed(admin, app_session):
    response = admin.post("/admin/rates", data={"base": "eur", "quote": "USD", "rate": "1.0845",
                                                "as_of": "2026-11-20T12:00", "source": "ECB"})
    assert response.status_code == 302
    rate = app_session.scalar(select(ExchangeRate))
    assert (rate.base, rate.quote, str(rate.rate), rate.as_of) == (
        "EUR", "USD", "1.0845", datetime(2026, 11, 20, 12, tzinfo=timezone.utc))
    assert b"1.0845" in admin.get("/admin/rates").data
    for bad, field in (({"rate": "1,08"}, "rate"), ({"rate": "-1"}, "rate"), ({"quote": "EUR"}, "quote"),
                       ({"base": ""}, "base"), ({"rate": "1e3"}, "rate")):
        data = {"base": "EUR", "quote": "USD", "rate": "1.1", "as_of": "2026-11-21T12:00", "source": "ECB"} | bad
        refused = admin.post("/admin/rates", data=data)
        assert refused.status_code == 422, bad
        assert field_errors(refused.data, field), bad
    assert len(list(app_session.scalars(select(ExchangeRate)))) == 1


def test_audit_log_filters(admin, make_campaign):
    make_campaign("demo")
    admin.post("/admin/rates", data={"base": "EUR", "quote": "USD", "rate": "1.1", "as_of": "2026-11-20T12:00",
                                     "source": "ECB"})
    everything = admin.get("/admin/audit").data.decode()
    assert "campaign.create" in everything and "exchange_rate.create" in everything
    rates_only = admin.get("/admin/audit?entity=exchange_rate").data.decode()
    assert "exchange_rate.create" in rates_only and "campaign.create" not in rates_only
    by_user = admin.get("/admin/audit?actor=admin@example.org").data.decode()
    assert "exchange_rate.create" in by_user and "campaign.create" not in by_user  # that one was the CLI
    assert "127.0.0.1" in by_user
    assert "campaign.create" not in admin.get("/admin/audit?date_to=2000-01-01").data.decode()


def test_dashboard_shows_progress_latest_donations_and_a_chart(admin, make_campaign, make_donation):
    campaign = make_campaign("demo", title="Server fund", period="monthly")
    make_donation(campaign, "120", donor_name="Ada")
    html = admin.get("/admin/").data.decode()
    assert "Server fund" in html and "$120" in html and "Ada" in html
    assert '<svg viewBox="0 0 640 160"' in html and '<rect class="positive"' in html


def test_forged_post_is_refused_with_csrf_on(csrf_app, make_user, make_campaign):
    make_user()
    make_campaign("demo")
    client = csrf_app.test_client()
    # Without a token even the sign-in is refused.
    assert client.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 400
    token = csrf_token(client.get("/admin/login").data)
    signed_in = client.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD,
                                                  "csrf_token": token})
    assert signed_in.status_code == 302
    # A page on another site posting into the signed-in admin's browser has no token.
    forged = client.post("/admin/campaigns/demo/status", data={"status": "archived"})
    assert forged.status_code == 400
    assert b"not sent from this site" in forged.data
    assert client.post("/admin/campaigns/demo/status", data={"status": "archived",
                                                             "csrf_token": "forged"}).status_code == 400
    with csrf_app.extensions["tracker_db"]() as session:
        assert session.scalar(select(Campaign.status)) == "active"
    # The real form's token works.
    token = csrf_token(client.get("/admin/campaigns/demo").data)
    ok = client.post("/admin/campaigns/demo/status", data={"status": "archived", "csrf_token": token})
    assert ok.status_code == 302
    with csrf_app.extensions["tracker_db"]() as session:
        assert session.scalar(select(Campaign.status)) == "archived"


def code_at(secret, steps):
    """The TOTP code `steps` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def test_an_unfinished_enrolment_is_forgotten_at_sign_out(client, auth, app_session):
    """The next person at this browser is not offered the same secret (the attack run found it kept)."""
    auth.login()
    first = re.search(rb'<code class="secret">([A-Z2-7]+)</code>', client.get("/admin/account/two-factor").data)
    again = re.search(rb'<code class="secret">([A-Z2-7]+)</code>', client.get("/admin/account/two-factor").data)
    assert first.group(1) == again.group(1)  # one secret until confirmed
    auth.logout()
    app_session.expire_all()
    assert app_session.scalar(select(User.totp_pending_secret)) is None
    auth.login(create=False)
    later = re.search(rb'<code class="secret">([A-Z2-7]+)</code>', client.get("/admin/account/two-factor").data)
    assert later.group(1) != first.group(1)


def test_signing_out_ends_a_copied_cookie_too(app, client, auth):
    auth.login()
    copy = app.test_client()
    cookie = client.get_cookie("session", path="/admin")
    copy.set_cookie(cookie.key, cookie.value, path="/admin")
    assert copy.get("/admin/").status_code == 200
    auth.logout()
    assert copy.get("/admin/").status_code == 302  # the session row is gone: back to the sign-in page


def test_a_session_ends_after_its_lifetime(app, client, auth, app_session):
    from datetime import timedelta

    from tracker.models import UserSession, utcnow

    auth.login()
    assert client.get("/admin/").status_code == 200
    row = app_session.scalars(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    app_session.commit()
    assert client.get("/admin/").status_code == 302

