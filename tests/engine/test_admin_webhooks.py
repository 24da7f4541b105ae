"""The admin's Webhooks pages: register (secret shown once), see attempts, send again; roles hold."""

from __future__ import annotations

import re

from factories import PASSWORD
from sqlalchemy import select

from tracker.models import WebhookEndpoint


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(admin, app_session, app):
    response = admin.post("/admin/webhooks", data={"url": "http://127.0.0.1:9/in", "events": ["donation.recorded"]})
    assert response.status_code == 422  # a private address, refused with the reason
    assert "private" in response.get_data(as_text=True)
    assert app_session.scalar(select(WebhookEndpoint)) is None


def test_viewers_see_endpoints_but_cannot_change_them(client, auth, app_session):
    app_session.add(WebhookEndpoint(url="https://hooks.example.org/in", events="donation.recorded",
                                    secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"))
    app_session.commit()
    auth.login("viewer@example.org", role="viewer")
    page = client.get("/admin/webhooks")
    assert page.status_code == 200 and "hooks.example.org" in page.get_data(as_text=True)
    assert "whsec_" not in page.get_data(as_text=True)
    assert client.post("/admin/webhooks", data={"url": "https://x.example.org/", "events": ["goal.reached"]}
                       ).status_code == 403
    endpoint = app_session.scalar(select(WebhookEndpoint))
    assert client.post(f"/admin/webhooks/{endpoint.id}/active").status_code == 403


def test_the_secret_is_shown_once_and_deliveries_are_listed(admin, app, app_session, settings_factory):
    from tracker import create_app

    settings = settings_factory(**{"webhooks.allow_private_addresses": True})
    local = create_app(settings)
    local.config["WTF_CSRF_ENABLED"] = False
    client = local.test_client()
    client.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD})
    created = client.post("/admin/webhooks", data={"url": "http://127.0.0.1:9/in",
                                                   "events": ["donation.recorded", "goal.reached"]})
    assert created.status_code == 201
    secret = re.search(r'value="(whsec_[^"]+)"', created.get_data(as_text=True))
    assert secret
    endpoint = app_session.scalar(select(WebhookEndpoint))
    assert endpoint.secret == secret[1] and endpoint.events == "donation.recorded goal.reached"
    detail = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert secret[1] not in detail and "Nothing delivered yet" in detail
    local.extensions["tracker_engine"].dispose()
