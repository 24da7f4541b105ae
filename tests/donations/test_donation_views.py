"""Donation pages: add (the rate shown before saving), correct, refund, confirm, filters, pages, export."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from admin_helpers import field_errors

from tracker.audit import Actor
from tracker.donations.rates import record_rate
from tracker.models import Donation

CLI = Actor.cli()
LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


@pytest.fixture()
def eur_rate(session):
    rate = record_rate(session, "EUR", "USD", "1.10", LONG_AGO, "ECB reference", CLI)
    session.commit()
    return rate


def test_add_donation_in_the_goal_currency(admin, make_campaign, donations):
    campaign = make_campaign("demo")
    page = admin.get(f"/admin/donations/new?campaign={campaign.id}")
    assert page.status_code == 200
    response = admin.post("/admin/donations/new", data={
        "campaign": campaign.id, "amount": "25.50", "currency": "usd", "status": "confirmed",
        "donor_name": "Ada", "form_key": "k1"})
    assert response.status_code == 302
    [donation] = donations()
    assert (donation.amount_minor, donation.currency, donation.donor_name) == (2550, "USD", "Ada")
    assert donation.recorded_by is not None and donation.recorded_by.email == "admin@example.org"


def test_foreign_currency_shows_the_rate_before_saving(admin, make_campaign, eur_rate, count, donations):
    campaign = make_campaign("demo")
    data = {"campaign": campaign.id, "amount": "100", "currency": "EUR", "status": "confirmed", "form_key": "k2"}
    preview = admin.post("/admin/donations/new", data=data)
    assert preview.status_code == 200
    html = preview.data.decode()
    assert "1.1" in html and "ECB reference" in html and "$110.00" in html
    assert "Confirm and save" in html
    assert count(Donation) == 0
    shown = html.split('name="shown_rate" type="hidden" value="')[1].split('"')[0]
    # Changing the amount on the confirm page shows the conversion again instead of saving.
    changed = admin.post("/admin/donations/new", data=data | {"amount": "200", "shown_rate": shown})
    assert changed.status_code == 200 and "$220.00" in changed.data.decode()
    assert count(Donation) == 0
    response = admin.post("/admin/donations/new", data=data | {"shown_rate": shown})
    assert response.status_code == 302
    [donation] = donations()
    assert (donation.goal_amount_minor, donation.rate_source, str(donation.rate)) == (11000, "ECB reference", "1.1")


def test_double_submission_records_one_donation(admin, make_campaign, count):
    campaign = make_campaign("demo")
    data = {"campaign": campaign.id, "amount": "5", "currency": "USD", "status": "confirmed", "form_key": "same"}
    assert admin.post("/admin/donations/new", data=data).status_code == 302
    again = admin.post("/admin/donations/new", data=data, follow_redirects=True)
    assert b"already recorded" in again.data
    assert count(Donation) == 1


def test_missing_rate_is_explained_next_to_the_currency(admin, make_campaign, count):
    campaign = make_campaign("demo")
    response = admin.post("/admin/donations/new", data={
        "campaign": campaign.id, "amount": "100", "currency": "GBP", "status": "confirmed", "form_key": "k"})
    assert response.status_code == 422
    assert "no GBP→USD exchange rate" in field_errors(response.data, "currency")
    assert count(Donation) == 0


@pytest.mark.parametrize(("amount", "currency", "field", "message"), [
    ("12,50", "USD", "amount", "use a dot for decimals: 12.50"),
    ("1e3", "USD", "amount", "exponent notation is not accepted: write the amount out in full, e.g. 1000"),
    ("-5", "USD", "amount", "the amount must be positive"),
    ("12.345", "USD", "amount", "USD has 2 decimal places: 12.345 cannot be recorded exactly"),
    ("10", "", "currency", "choose a currency"),
    ("0", "USD", "amount", "the amount must be more than zero"),
])
def test_bad_money_in_a_donation_is_refused_clearly(admin, make_campaign, count, amount, currency, field, message):
    campaign = make_campaign("demo")
    response = admin.post("/admin/donations/new", data={
        "campaign": campaign.id, "amount": amount, "currency": currency, "status": "confirmed", "form_key": "k"})
    assert response.status_code == 422
    assert message in field_errors(response.data, field)
    assert count(Donation) == 0


def test_correct_a_donation_needs_a_reason(admin, make_campaign, make_donation, donations, events):
    campaign = make_campaign("demo")
    donation = make_donation(campaign, "10")
    page = admin.get(f"/admin/donations/{donation.id}")
    assert b'value="10.00"' in page.data
    data = {"amount": "12", "currency": "USD", "received_at": "2026-11-20T10:00", "donor_name": "Bo"}
    refused = admin.post(f"/admin/donations/{donation.id}", data=data | {"reason": ""})
    assert refused.status_code == 422
    assert donations()[0].amount_minor == 1000
    response = admin.post(f"/admin/donations/{donation.id}", data=data | {"reason": "typo"})
    assert response.status_code == 302
    corrected = donations()[0]
    assert (corrected.amount_minor, corrected.donor_name, corrected.reason) == (1200, "Bo", "typo")
    [event] = events("donation.correct")
    assert event.before["amount_minor"] == 1000 and event.after["amount_minor"] == 1200


def test_refund_keeps_the_row_and_needs_a_reason(admin, make_campaign, make_donation, donations):
    campaign = make_campaign("demo")
    donation = make_donation(campaign, "10")
    refused = admin.post(f"/admin/donations/{donation.id}/refund", data={"reason": " "})
    assert refused.status_code == 422
    assert donations()[0].status == "confirmed"
    assert admin.post(f"/admin/donations/{donation.id}/refund", data={"reason": "chargeback"}).status_code == 302
    [row] = donations()
    assert (row.status, row.reason) == ("refunded", "chargeback")
    assert admin.post(f"/admin/donations/{donation.id}/refund", data={"reason": "again"}).status_code == 409


def test_confirm_a_pending_donation(admin, make_campaign, make_donation, donations):
    campaign = make_campaign("demo")
    donation = make_donation(campaign, "10", status="pending")
    assert admin.post(f"/admin/donations/{donation.id}/confirm").status_code == 302
    assert donations()[0].status == "confirmed"


def test_filters_and_pages(admin, make_campaign, make_donation):
    first, second = make_campaign("first"), make_campaign("second")
    start = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    for day in range(60):
        make_donation(first, "1", received_at=start + timedelta(days=day))
    make_donation(second, "7", received_at=start, status="pending", donor_name="Pending Pat")
    page_one = admin.get("/admin/donations").data.decode()
    assert page_one.count('class="row-') == 50 and "Newer" not in page_one
    older = re.search(r'href="(/admin/donations\?older=[^"]+)"', page_one).group(1).replace("&amp;", "&")
    page_two = admin.get(older).data.decode()
    assert page_two.count('class="row-') == 11 and "Older" not in page_two and "Newest" in page_two
    pending = admin.get("/admin/donations?status=pending").data.decode()
    assert "Pending Pat" in pending and "Older" not in pending
    march = admin.get(f"/admin/donations?campaign={first.id}&date_from=2026-03-01&date_to=2026-03-10").data.decode()
    assert march.count('class="row-confirmed"') == 10
    assert admin.get("/admin/donations?source=csv").data.decode().count('class="row-') == 0
    assert admin.get("/admin/donations?date_from=yesterday").status_code == 422


def test_export_csv_neutralises_formulas(admin, make_campaign, make_donation):
    campaign = make_campaign("demo")
    make_donation(campaign, "10", donor_name="=HYPERLINK(\"http://evil.example\")")
    response = admin.get(f"/admin/donations/export.csv?campaign={campaign.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert row["donor_name"].startswith("'=")
    assert row["amount"] == "10.00"


def test_viewers_read_but_do_not_see_write_forms(client, auth, make_campaign, make_donation):
    campaign = make_campaign("demo")
    donation = make_donation(campaign, "10")
    auth.login("viewer@example.org", role="viewer")
    assert client.get("/admin/donations").status_code == 200
    page = client.get(f"/admin/donations/{donation.id}")
    assert page.status_code == 200 and b"Save correction" not in page.data
    assert client.get("/admin/donations/new").status_code == 403


def test_the_export_streams_and_offers_a_bom_for_spreadsheets(admin, make_campaign, make_donation):
    campaign = make_campaign("demo")
    for index in range(3):
        make_donation(campaign, "1", external_id=f"e{index}", donor_name="Zoë")
    plain = admin.get(f"/admin/donations/export.csv?campaign={campaign.id}")
    assert plain.is_streamed and not plain.get_data().startswith(b"\xef\xbb\xbf")
    sheet = admin.get(f"/admin/donations/export.csv?campaign={campaign.id}&for=spreadsheet")
    data = sheet.get_data()
    assert data.startswith(b"\xef\xbb\xbfuid,campaign,") and "Zoë".encode() in data


def test_an_export_download_never_read_holds_no_connection(admin, make_campaign, make_donation):
    """A streamed CSV opens its own session when the first chunk is asked for and closes it with
    the response: downloads dropped before (or while) they are read must not drain the pool."""
    campaign = make_campaign()
    make_donation(campaign, "1.00")
    engine = admin.application.extensions["tracker_engine"]
    for _ in range(30):
        admin.get("/admin/donations/export.csv").close()
    read = admin.get("/admin/donations/export.csv")
    assert read.get_data(as_text=True).count("\n") == 2
    read.close()
    assert engine.pool.checkedout() <= 1
