"""The attack run's smaller findings, one test each (the larger ones have their own modules)."""

from __future__ import annotations

import os
import stat

import pytest
from factories import CLI, PASSWORD

from tracker.accounts.operations import normalize_email
from tracker.campaigns.operations import CampaignInput, save_campaign
from tracker.db import make_engine
from tracker.donations.imports import import_rows
from tracker.donations.ledger import adjust_raised_to
from tracker.donations.rates import record_rate
from tracker.errors import InvalidInput
from tracker.models import AuditEvent, Donation, utcnow
from tracker.money import Money, MoneyError, normalize_currency
from tracker.payments.operations import PaymentMethodInput, save_payment_method


def test_set_raised_to_zero_after_a_huge_gift_is_refused_beyond_the_amount_limit(session, make_campaign,
                                                                                 make_donation):
    """The adjustment would have been past the limit, and the backup then refused to import."""
    campaign = make_campaign("huge", target="100", milestones=())
    for _ in range(2):
        make_donation(campaign, "99999999999999.99")  # the largest single amount, twice
    with pytest.raises(InvalidInput, match="largest amount allowed"):
        adjust_raised_to(session, campaign, Money(0, "USD"), actor=CLI, reason="reset")


def test_a_huge_amount_at_a_huge_rate_is_refused_with_a_message(session, make_campaign):
    from tracker.donations.ledger import record_donation

    campaign = make_campaign("huge")
    record_rate(session, "BTC", "USD", "999999999999999.999999999999999999", utcnow(), "manual", CLI)
    with pytest.raises(InvalidInput, match="converts to more than"):
        record_donation(session, campaign, Money.parse("100000000", "BTC"), actor=CLI)


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "xdr"])
def test_codes_that_are_no_ones_money_are_not_goal_currencies(code):
    with pytest.raises(MoneyError, match="unknown currency"):
        normalize_currency(code)
    assert normalize_currency("XOF") == "XOF"  # the CFA franc is real money


def test_the_slug_new_would_collide_with_an_admin_page(session):
    with pytest.raises(InvalidInput, match="taken by a page of the admin"):
        save_campaign(session, CampaignInput(slug="new", title="New", target=Money.parse("10", "USD")), actor=CLI)


@pytest.mark.parametrize("address", ['"><svg onload=alert(1)>@x.example', "give@example.org?subject=Refund",
                                     "a&b@example.org", "a@b", "a@-b.example"])
def test_contact_addresses_refuse_markup_and_mailto_injection(session, address):
    with pytest.raises(InvalidInput):
        save_payment_method(session, PaymentMethodInput("email", "email", address), actor=CLI)
    with pytest.raises(InvalidInput):
        normalize_email(address)


def test_imported_gifts_are_audited_one_by_one_with_who_imported_them(session, make_campaign, make_user):
    from tracker.audit import Actor

    make_campaign("demo")
    user = make_user()
    actor = Actor(user.email, user_id=user.id)
    rows = [(n, {"campaign": "demo", "amount": str(n), "currency": "USD", "external_id": f"bank-{n}",
                 "received_at": "2026-11-01T10:00:00+00:00"}) for n in range(2, 5)]
    report = import_rows(session, rows, actor=actor)
    session.commit()
    assert report.created == 3
    assert {d.recorded_by_id for d in session.query(Donation)} == {user.id}
    per_gift = session.query(AuditEvent).filter(AuditEvent.action == "donation.import",
                                                AuditEvent.entity_id.isnot(None)).all()
    assert sorted(e.after["external_id"] for e in per_gift) == ["bank-2", "bank-3", "bank-4"]


def test_admin_pages_and_the_export_are_never_stored(admin):
    for url in ("/admin/", "/admin/donations", "/admin/donations/export.csv", "/admin/login"):
        assert admin.get(url).headers["Cache-Control"] == "no-store", url


def test_a_405_names_the_methods_allowed(client):
    response = client.delete("/support")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "instance" / "tracker.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect():
        pass
    engine.dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_secure_cookies_are_on_outside_development(tmp_path):
    from tracker.config import load_settings

    production = load_settings(path=None, env={}, overrides={"environment": "production",
                                                             "security.secret_key": "x" * 20})
    assert production.security.secure_cookies is True
    newcomer = load_settings(path=None, env={}, overrides={"instance_path": str(tmp_path)})
    assert newcomer.environment == "development" and newcomer.security.secure_cookies is False


def test_sign_out_is_noted_by_the_password_being_unchanged(client, auth):
    """Signing out and in again works with the same password: only the session ended."""
    auth.login()
    auth.logout()
    assert client.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 302
