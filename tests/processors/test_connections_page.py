"""The admin's Connections page: the URLs to paste, whether each is set up, deliveries; secrets never shown."""

from __future__ import annotations

from processor_helpers import KOFI_TOKEN, STRIPE_SECRET, fixture, send_stripe

from tracker.models import InboundEvent


def test_admins_see_each_endpoint_and_the_latest_deliveries(hooks, hooks_app, make_user, session, make_campaign):
    make_campaign("demo")
    send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    make_user("admin@example.org", role="admin")
    hooks.post("/admin/login", data={"email": "admin@example.org", "password": "correct horse battery staple"})
    page = hooks.get("/admin/connections")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for path in ("stripe", "btcpay", "kofi", "github-sponsors", "standard"):
        assert f"https://support.example.org/hooks/{path}" in text
    assert "checkout.session.completed" in text and "Process again" in text
    assert "/admin/donations/" in text  # the delivery links to the gift it made
    assert STRIPE_SECRET not in text and KOFI_TOKEN not in text
    assert page.headers["Cache-Control"] == "no-store"


def test_viewers_read_the_page_but_cannot_process_again(hooks, make_user, session, make_campaign):
    make_campaign("demo")
    send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    make_user("viewer@example.org", role="viewer")
    hooks.post("/admin/login", data={"email": "viewer@example.org", "password": "correct horse battery staple"})
    page = hooks.get("/admin/connections")
    assert page.status_code == 200 and "Process again" not in page.get_data(as_text=True)
    session.rollback()
    event = session.query(InboundEvent).one()
    assert hooks.post(f"/admin/connections/events/{event.id}/process").status_code == 403


def test_an_unconfigured_connection_says_so(admin):
    text = admin.get("/admin/connections").get_data(as_text=True)
    assert text.count("Not configured") == 5


def test_processing_a_missing_event_is_404(admin):
    assert admin.post("/admin/connections/events/999/process").status_code == 404
