"""Ko-fi, GitHub Sponsors and Standard Webhooks: their checks, their mapping, GitHub's renewals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from processor_helpers import fixture, github_headers, send_github, send_kofi, send_standard, standard_headers
from sqlalchemy import select

from tracker.models import Donation
from tracker.processors.jobs import record_github_renewals


def gifts(session, source):
    session.rollback()
    return list(session.scalars(select(Donation).where(Donation.source == source).order_by(Donation.received_at)))


# --- Ko-fi ---------------------------------------------------------------------------------

def test_a_kofi_donation_is_recorded_once(hooks, session, make_campaign):
    make_campaign("demo")
    payment = fixture("kofi_donation.json")
    assert send_kofi(hooks, payment).json["state"] == "processed"
    assert send_kofi(hooks, payment).json["replay"] is True
    [gift] = gifts(session, "kofi")
    assert (gift.amount_minor, gift.currency, gift.is_public) == (300, "USD", True)
    assert gift.donor_name == "Ko-fi Team" and gift.message == "Good luck with the integration!"
    assert gift.external_id == payment["kofi_transaction_id"]


def test_a_private_kofi_gift_stays_off_the_wall(hooks, session, make_campaign):
    make_campaign("demo")
    payment = fixture("kofi_donation.json") | {"is_public": False}
    send_kofi(hooks, payment)
    [gift] = gifts(session, "kofi")
    assert gift.is_public is False


def test_kofi_subscriptions_are_recurring_and_shop_orders_are_ignored(hooks, session, make_campaign):
    make_campaign("demo")
    subscription = fixture("kofi_donation.json") | {"type": "Subscription", "message_id": "m2",
                                                    "kofi_transaction_id": "t2", "is_subscription_payment": True}
    send_kofi(hooks, subscription)
    shop = fixture("kofi_donation.json") | {"type": "Shop Order", "message_id": "m3", "kofi_transaction_id": "t3"}
    assert send_kofi(hooks, shop).json["state"] == "ignored"
    [gift] = gifts(session, "kofi")
    assert gift.recurring is True


def test_a_wrong_kofi_token_or_a_broken_form_is_refused(hooks, session):
    assert send_kofi(hooks, fixture("kofi_donation.json") | {"verification_token": "guess"}).status_code == 401
    response = hooks.post("/hooks/kofi", data=urlencode({"data": "{broken"}),
                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert hooks.post("/hooks/kofi", data="nothing=here").status_code == 400
    assert gifts(session, "kofi") == []


# --- GitHub Sponsors -----------------------------------------------------------------------

def test_a_new_sponsorship_records_its_first_month(hooks, session, make_campaign):
    make_campaign("demo")
    response = send_github(hooks, fixture("github_sponsorship_created.json"))
    assert response.status_code == 200 and response.json["state"] == "processed"
    [gift] = gifts(session, "github")
    assert (gift.amount_minor, gift.currency, gift.external_id) == (500, "USD", "MDExOlNwb25zb3JzaGlwMQ==:2019-12")
    assert gift.donor_name == "octocat" and gift.is_public and not gift.recurring


def test_renewals_are_recorded_each_month_until_the_sponsorship_is_cancelled(hooks, hooks_app, session,
                                                                             make_campaign):
    make_campaign("demo")
    created = fixture("github_sponsorship_created.json")
    created["sponsorship"]["created_at"] = "2026-09-15T10:00:00Z"
    send_github(hooks, created)
    settings = hooks_app.config["TRACKER_SETTINGS"]
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    assert record_github_renewals(session, settings, now=now) == {"sponsorships": 1, "recorded": 2}
    session.commit()
    assert record_github_renewals(session, settings, now=now)["recorded"] == 0  # idempotent
    session.commit()
    months = [g.external_id.split(":")[1] for g in gifts(session, "github")]
    assert months == ["2026-09", "2026-10", "2026-11"]
    assert [g.recurring for g in gifts(session, "github")] == [False, True, True]
    cancelled = fixture("github_sponsorship_created.json") | {"action": "cancelled"}
    cancelled["sponsorship"]["created_at"] = "2026-09-15T10:00:00Z"
    send_github(hooks, cancelled)
    session.rollback()  # a job runs in a transaction of its own, after the webhook's
    assert record_github_renewals(session, settings, now=now + timedelta(days=60))["recorded"] == 0


def test_github_signatures_and_other_events(hooks, session):
    body = json.dumps(fixture("github_sponsorship_created.json")).encode()
    assert hooks.post("/hooks/github-sponsors", data=body,
                      headers=github_headers(body, secret="wrong")).status_code == 401
    ping = send_github(hooks, {"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")
    assert ping.status_code == 200 and ping.json["state"] == "ignored"


# --- Standard Webhooks ---------------------------------------------------------------------

GIFT = {"type": "gift", "id": "zap-42", "campaign": "demo", "amount": "12.50", "currency": "USD",
        "status": "confirmed", "donor": {"name": "Grace", "message": "Thanks!", "public": True},
        "ref": "2026/12/election-guide"}


def test_a_standard_webhook_gift_is_recorded_and_refunded(hooks, session, make_campaign):
    make_campaign("demo")
    assert send_standard(hooks, GIFT).json["state"] == "processed"
    [gift] = gifts(session, "standard")
    assert (gift.amount_minor, gift.donor_name, gift.is_public, gift.ref) == (1250, "Grace", True,
                                                                              "2026/12/election-guide")
    assert send_standard(hooks, GIFT | {"status": "refunded"}).json["state"] == "processed"
    assert gifts(session, "standard")[0].status == "refunded"


def test_a_standard_refund_before_its_gift_waits(hooks, session, make_campaign):
    make_campaign("demo")
    assert send_standard(hooks, GIFT | {"status": "refunded"}).json["state"] == "waiting"
    send_standard(hooks, GIFT)
    assert gifts(session, "standard")[0].status == "refunded"


def test_standard_webhooks_refuse_stale_forged_and_replayed_messages(hooks, session, make_campaign):
    make_campaign("demo")
    body = json.dumps(GIFT)
    stale = standard_headers(body, when=datetime.now(timezone.utc) - timedelta(minutes=6))
    assert hooks.post("/hooks/standard", data=body, headers=stale).status_code == 401
    forged = standard_headers(body, secret="whsec_" + "Zm9yZ2VkLXNlY3JldA==")
    assert hooks.post("/hooks/standard", data=body, headers=forged).status_code == 401
    headers = standard_headers(body, msg_id="msg_once")
    assert hooks.post("/hooks/standard", data=body, headers=headers).json["replay"] is False
    assert hooks.post("/hooks/standard", data=body, headers=headers).json["replay"] is True
    assert len(gifts(session, "standard")) == 1


def test_a_standard_gift_with_a_bad_amount_is_kept_as_failed(hooks, session, make_campaign):
    make_campaign("demo")
    response = send_standard(hooks, GIFT | {"id": "bad", "amount": "12.505"})
    assert response.status_code == 200 and response.json["state"] == "failed"
    assert gifts(session, "standard") == []


def test_an_unconfigured_connection_refuses_everything(client, session):
    body = json.dumps(GIFT)
    response = client.post("/hooks/standard", data=body, headers=standard_headers(body))
    assert response.status_code == 401 and "no secret configured" in response.json["error"]
