"""Who can reach what in /admin: sign-in, roles on every route, `next=`, rate limits, sessions."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint

from tracker import create_app
from tracker.web.access import ACCESS_ATTRIBUTE, safe_next

PUBLIC_ENDPOINTS = {"admin.login", "admin.login_code"}
SAMPLE_VALUES = {"slug": "demo", "donation_id": 1, "method_id": 1, "user_id": 1, "endpoint_id": 1, "delivery_id": 1,
                 "event_id": 1}


def admin_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = rule.rule
            for name, value in SAMPLE_VALUES.items():
                path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
            assert "<" not in path, f"add a sample value for {rule.rule}"
            yield rule, path


def test_every_admin_endpoint_declares_its_access(app):
    views = [app.view_functions[rule.endpoint] for rule, _ in admin_rules(app)]
    assert len(views) > 25
    for view in views:
        assert getattr(view, ACCESS_ATTRIBUTE, None) is not None, view.__name__


def test_every_admin_endpoint_refuses_anonymous_users(client, make_campaign):
    make_campaign("demo")
    for rule, path in admin_rules(client.application):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code in (302, 401, 403), (method, path, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/admin/login"), (method, path)


def test_every_admin_write_refuses_viewers(client, auth, make_campaign, count):
    from tracker.models import AuditEvent

    make_campaign("demo")
    auth.login("viewer@example.org", role="viewer")
    before = count(AuditEvent)
    checked = 0
    for rule, path in admin_rules(client.application):
        view = client.application.view_functions[rule.endpoint]
        access = getattr(view, ACCESS_ATTRIBUTE)
        if rule.endpoint in PUBLIC_ENDPOINTS or access["self_service"] or "POST" not in rule.methods:
            continue
        response = client.post(path, data={"reason": "x", "status": "archived", "amount": "1"})
        assert response.status_code == 403, (path, response.status_code)
        checked += 1
    assert checked > 15
    assert count(AuditEvent) == before
    # Self-service routes only touch the viewer's own sign-in; reading pages is allowed.
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/campaigns/demo").status_code == 200
    assert client.get("/admin/users").status_code == 403


def test_a_view_without_a_declared_role_fails_closed(clean_db, settings_factory):
    app = create_app(settings_factory())
    extra = Blueprint("admin_extra", __name__, url_prefix="/admin/extra")

    @extra.get("/")
    def forgotten() -> str:
        return "secret"

    from tracker.web.access import enforce_declared_roles

    extra.before_request(enforce_declared_roles)
    app.register_blueprint(extra)
    assert app.test_client().get("/admin/extra/").status_code == 403
    app.extensions["tracker_engine"].dispose()


def test_sign_in_and_out(client, auth):
    assert client.get("/admin/login").status_code == 200
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert b"admin@example.org" in client.get("/admin/").data
    assert auth.logout().headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, make_user):
    make_user()
    for email, password in (("admin@example.org", "not the password"), ("nobody@example.org", "whatever")):
        response = client.post("/admin/login", data={"email": email, "password": password})
        assert response.status_code == 422
        assert b"Wrong e-mail or password." in response.data
    assert client.get("/admin/").status_code == 302


def test_deactivated_user_cannot_sign_in(client, make_user):
    make_user(active=False)
    response = client.post("/admin/login", data={"email": "admin@example.org",
                                                 "password": "correct horse battery staple"})
    assert response.status_code == 422


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil", "/\\/evil.example",
                                    "http:/evil.example", "javascript:alert(1)", " //evil.example", "/%0a//x\n"])
def test_next_never_leaves_the_site(client, make_user, target):
    make_user()
    response = client.post("/admin/login?next=x", data={"email": "admin@example.org",
                                                         "password": "correct horse battery staple", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_next_leads_to_a_local_path(client, make_user):
    make_user()
    page = client.get("/admin/donations?status=pending")
    assert page.status_code == 302
    login_url = page.headers["Location"]
    assert login_url.startswith("/admin/login?next=")
    form = client.get(login_url)
    assert b'value="/admin/donations?status=pending"' in form.data
    response = client.post(login_url, data={"email": "admin@example.org", "password": "correct horse battery staple",
                                            "next": "/admin/donations?status=pending"})
    assert response.headers["Location"] == "/admin/donations?status=pending"


def test_safe_next_rules():
    assert safe_next("/admin/rates") == "/admin/rates"
    for bad in ("", None, "admin", "//evil.example", "https://evil.example", "/\\evil", "/ok\r\nSet-Cookie: x"):
        assert safe_next(bad) is None


def test_login_is_rate_limited_per_address(clean_db, settings_factory, make_user):
    app = create_app(settings_factory(**{"security.login_rate_limit": "3 per minute"}))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    statuses = [client.post("/admin/login", data={"email": f"u{i}@example.org", "password": "wrong password!"}).status_code
                for i in range(4)]
    assert statuses == [422, 422, 422, 429]
    app.extensions["tracker_engine"].dispose()


def test_login_is_rate_limited_per_account(clean_db, settings_factory, make_user):
    app = create_app(settings_factory(**{"security.login_rate_limit": "3 per minute"}))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    make_user()
    for i in range(3):
        address = {"REMOTE_ADDR": f"10.0.0.{i}"}
        response = client.post("/admin/login", data={"email": "admin@example.org", "password": "wrong password!"},
                               environ_base=address)
        assert response.status_code == 422
    # Even the right password, from a fresh address, waits: the account is being guessed at.
    response = client.post("/admin/login", data={"email": "Admin@Example.org", "password": "correct horse battery staple"},
                           environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 429
    # Another account from that fresh address is unaffected.
    make_user(email="other@example.org")
    response = client.post("/admin/login", data={"email": "other@example.org", "password": "correct horse battery staple"},
                           environ_base={"REMOTE_ADDR": "10.0.0.98"})
    assert response.status_code == 302
    app.extensions["tracker_engine"].dispose()


def test_sign_out_everywhere_ends_other_sessions(app, client, auth, events):
    auth.login()
    other = app.test_client()
    other.post("/admin/login", data={"email": "admin@example.org", "password": "correct horse battery staple"})
    assert other.get("/admin/").status_code == 200
    response = client.post("/admin/account/sign-out-everywhere")
    assert response.headers["Location"] == "/admin/login"
    assert other.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 302
    assert len(events("user.sign_out_everywhere")) == 1


def test_password_change_keeps_this_session_and_ends_others(app, client, auth):
    auth.login()
    other = app.test_client()
    other.post("/admin/login", data={"email": "admin@example.org", "password": "correct horse battery staple"})
    wrong = client.post("/admin/account/password", data={
        "current_password": "nope", "new_password": "a brand new passphrase", "new_password_again": "a brand new passphrase"})
    assert wrong.status_code == 422
    assert b"this is not your current password" in wrong.data
    response = client.post("/admin/account/password", data={
        "current_password": "correct horse battery staple", "new_password": "a brand new passphrase",
        "new_password_again": "a brand new passphrase"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 302


@pytest.mark.parametrize("path", ["/admin/", "/admin/campaigns/demo", "/admin/campaigns/new", "/admin/donations",
                                  "/admin/donations/new", "/admin/payment-methods", "/admin/rates", "/admin/audit",
                                  "/admin/account", "/admin/account/two-factor", "/admin/donations/import"])
def test_admin_pages_refuse_framing_and_load_nothing_from_elsewhere(admin, make_campaign, make_donation, path):
    make_donation(make_campaign("demo"), "10")
    response = admin.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.data.decode()
    # No inline script or style (the CSP would block them) and nothing from another site.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html and "<style" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    make_user()
    response = client.post("/admin/login", data={"email": "admin@example.org", "password": "correct horse battery staple"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_only_attempts_that_send_a_secret_count_towards_the_limit(clean_db, settings_factory, make_user):
    from admin_helpers import BTC_OLD

    app = create_app(settings_factory(**{"security.login_rate_limit": "3 per minute"}))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    make_user()
    assert client.post("/admin/login", data={"email": "admin@example.org",
                                             "password": "correct horse battery staple"}).status_code == 302
    data = {"kind": "address", "coin": "BTC", "network": "mainnet", "target": BTC_OLD, "label": "Bitcoin", "active": "y"}
    # Filling in the form (no password yet) is not a guess, however often it happens.
    assert [client.post("/admin/payment-methods/new", data=data).status_code for _ in range(4)] == [200] * 4
    guesses = [client.post("/admin/payment-methods/new", data=data | {"confirmed": "1", "password": "guess"}).status_code
               for _ in range(3)]
    assert guesses == [422, 422, 429]
    app.extensions["tracker_engine"].dispose()


def test_a_sign_in_sent_as_json_or_with_file_parts_is_refused_before_any_check(client, make_user):
    """The attack run: 2,000 wrong TOTP codes as JSON got no 429, and then the right one signed in."""
    import io

    make_user()
    as_json = client.post("/admin/login", json={"email": "admin@example.org",
                                                "password": "correct horse battery staple"})
    assert as_json.status_code == 400 and b"must be an HTML form" in as_json.data
    assert client.get("/admin/").status_code == 302  # nobody was signed in
    for body in ({"email": ["a", "b"], "password": {"x": 1}}, [1, 2, 3], "plain"):
        assert client.post("/admin/login", json=body).status_code == 400
    as_text = client.post("/admin/login", data="email=a", content_type="text/plain")
    assert as_text.status_code == 400
    file_part = client.post("/admin/login", data={"email": "admin@example.org",
                                                  "password": (io.BytesIO(b"guess"), "password.txt")},
                            content_type="multipart/form-data")
    assert file_part.status_code == 400 and b"takes no file" in file_part.data


def test_json_guesses_no_longer_bypass_the_limit(clean_db, settings_factory, make_user):
    app = create_app(settings_factory(**{"security.login_rate_limit": "3 per minute"}))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    make_user()
    wrong = {"email": "admin@example.org", "password": "wrong password!"}
    statuses = [client.post("/admin/login", json=wrong).status_code for _ in range(5)]
    statuses += [client.post("/admin/login", data=wrong).status_code for _ in range(4)]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [422, 422, 422, 429]
    app.extensions["tracker_engine"].dispose()
