"""Stripe webhooks end to end: signatures over the raw body, exactly once, refunds in any order."""

from __future__ import annotations

import copy
import io
import json

from factories import CLI, at
from processor_helpers import STRIPE_PREVIOUS, fixture, now_ts, send_stripe, stripe_headers
from sqlalchemy import func, select

from tracker.campaigns.progress import campaign_progress
from tracker.donations.ledger import verify_totals
from tracker.donations.rates import record_rate
from tracker.models import Donation, InboundEvent
from tracker.processors.jobs import retry_needing_rate

PAYMENT_INTENT = "pi_3NiEd6CwCgBEGV8O0mJ5cV5e"


def gifts(session):
    session.rollback()
    return list(session.scalars(select(Donation).where(Donation.source == "stripe").order_by(Donation.id)))


def inbox(session):
    session.rollback()
    return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def refund_event(event_id: str, refunded: int, *, full: bool = False):
    event = fixture("stripe_charge_refunded.json")
    event["id"] = event_id
    event["data"]["object"]["amount_refunded"] = refunded
    event["data"]["object"]["refunded"] = full
    return event


def test_a_paid_checkout_session_records_one_gift_with_its_article(hooks, session, make_campaign):
    campaign = make_campaign("demo")
    response = send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    assert response.status_code == 200, response.data
    assert response.json["state"] == "processed"
    [gift] = gifts(session)
    assert (gift.amount_minor, gift.currency, gift.status) == (2500, "USD", "confirmed")
    assert gift.external_id == PAYMENT_INTENT
    assert gift.ref == "2026/12/city-council-budget"
    assert gift.donor_name == "Ada Reader" and not gift.is_public
    assert campaign_progress(session, campaign).raised.minor == 2500


def test_a_replayed_delivery_adds_nothing(hooks, session, make_campaign):
    make_campaign("demo")
    event = fixture("stripe_checkout_session_completed.json")
    assert send_stripe(hooks, event).json["replay"] is False
    again = send_stripe(hooks, event)
    assert again.status_code == 200 and again.json["replay"] is True
    # The same payment told by another event (async_payment_succeeded) is the same gift.
    other = copy.deepcopy(event)
    other["id"], other["type"] = "evt_other", "checkout.session.async_payment_succeeded"
    assert send_stripe(hooks, other).json["state"] == "processed"
    assert len(gifts(session)) == 1
    assert len(inbox(session)) == 2


def test_a_forged_signature_is_refused_and_nothing_is_saved(hooks, session, make_campaign):
    make_campaign("demo")
    body = json.dumps(fixture("stripe_checkout_session_completed.json"))
    response = hooks.post("/hooks/stripe", data=body, headers=stripe_headers(body, secret="whsec_forged"))
    assert response.status_code == 401
    assert "does not match" in response.json["error"]
    # A changed body under a genuine signature is refused too: the signature covers the raw bytes.
    headers = stripe_headers(body)
    response = hooks.post("/hooks/stripe", data=body.replace("2500", "250000"), headers=headers)
    assert response.status_code == 401
    assert gifts(session) == []
    assert inbox(session) == []


def test_a_stale_timestamp_is_refused(hooks, session, make_campaign):
    make_campaign("demo")
    body = json.dumps(fixture("stripe_checkout_session_completed.json"))
    response = hooks.post("/hooks/stripe", data=body, headers=stripe_headers(body, timestamp=now_ts() - 6 * 60))
    assert response.status_code == 401 and "5 minutes" in response.json["error"]
    assert gifts(session) == []


def test_the_previous_secret_is_accepted_while_it_rolls_over(hooks, session, make_campaign):
    make_campaign("demo")
    body = json.dumps(fixture("stripe_checkout_session_completed.json"))
    old = stripe_headers(body, secret=STRIPE_PREVIOUS)["Stripe-Signature"]
    # Stripe sends one v1 per active secret; any of them may match.
    header = old + ",v1=" + "0" * 64
    response = hooks.post("/hooks/stripe", data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 200, response.data
    assert inbox(session)[0].signature == "previous"


def test_missing_or_malformed_headers_and_bodies_are_400(hooks, session):
    body = "{not json"
    assert hooks.post("/hooks/stripe", data=body).status_code == 400
    assert hooks.post("/hooks/stripe", data=body, headers={"Stripe-Signature": "t=x,v1=zz"}).status_code == 400
    response = hooks.post("/hooks/stripe", data=body, headers=stripe_headers(body))
    assert response.status_code == 400 and "not JSON" in response.json["error"]
    response = hooks.post("/hooks/stripe", data="[]", headers=stripe_headers("[]"))
    assert response.status_code == 400
    assert gifts(session) == []


def test_a_body_over_the_limit_is_refused_however_it_is_sent(hooks, session):
    big = json.dumps({"id": "evt_big", "type": "x", "pad": "x" * 300_000})
    response = hooks.post("/hooks/stripe", data=big, headers=stripe_headers(big))
    assert response.status_code == 413
    # Without a Content-Length (chunked), the body is still read only up to the limit.
    # (gunicorn marks a chunked body as terminated by the server: wsgi.input_terminated.)
    response = hooks.post("/hooks/stripe", input_stream=io.BytesIO(big.encode()),
                          headers={**stripe_headers(big), "Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    response = hooks.post("/hooks/stripe", data=b"\x1f\x8b", headers={**stripe_headers("x"),
                                                                        "Content-Encoding": "gzip"})
    assert response.status_code == 415
    assert gifts(session) == []


def test_an_unknown_event_type_is_acknowledged_and_ignored(hooks, session):
    event = {"id": "evt_customer", "object": "event", "type": "customer.created", "created": now_ts(),
             "data": {"object": {"id": "cus_1", "object": "customer"}}}
    response = send_stripe(hooks, event)
    assert response.status_code == 200 and response.json["state"] == "ignored"


def test_an_unpaid_session_and_a_subscription_session_are_not_counted(hooks, session, make_campaign):
    make_campaign("demo")
    unpaid = fixture("stripe_checkout_session_completed.json")
    unpaid["data"]["object"]["payment_status"] = "unpaid"
    assert send_stripe(hooks, unpaid).json["state"] == "ignored"
    subscription = fixture("stripe_checkout_session_completed.json")
    subscription["id"], subscription["data"]["object"]["mode"] = "evt_sub", "subscription"
    assert send_stripe(hooks, subscription).json["state"] == "ignored"
    assert gifts(session) == []


def test_partial_refunds_are_cumulative_and_order_does_not_matter(hooks, session, make_campaign):
    campaign = make_campaign("demo")
    send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    assert send_stripe(hooks, refund_event("evt_r1", 1000)).json["state"] == "processed"
    [gift] = gifts(session)
    assert (gift.amount_minor, gift.status) == (1500, "confirmed")
    assert send_stripe(hooks, refund_event("evt_r2", 1500)).json["state"] == "processed"
    assert gifts(session)[0].amount_minor == 1000
    # The first refund's event delivered again late (a smaller cumulative total) changes nothing.
    assert send_stripe(hooks, refund_event("evt_r1_late", 1000)).json["state"] == "processed"
    assert gifts(session)[0].amount_minor == 1000
    assert send_stripe(hooks, refund_event("evt_r3", 2500, full=True)).json["state"] == "processed"
    assert gifts(session)[0].status == "refunded"
    assert campaign_progress(session, campaign).raised.minor == 0
    assert verify_totals(session, campaign) == []


def test_a_refund_before_its_payment_waits_then_applies(hooks, session, make_campaign):
    campaign = make_campaign("demo")
    response = send_stripe(hooks, refund_event("evt_refund_first", 2500, full=True))
    assert response.status_code == 200 and response.json["state"] == "waiting"
    assert gifts(session) == []
    send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    [gift] = gifts(session)
    assert gift.status == "refunded"
    assert [e.state for e in inbox(session)] == ["processed", "processed"]
    assert campaign_progress(session, campaign).raised.minor == 0
    assert verify_totals(session, campaign) == []


def test_a_lost_dispute_takes_the_gift_back_out(hooks, session, make_campaign):
    make_campaign("demo")
    send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    won = fixture("stripe_dispute_closed.json")
    won["id"], won["data"]["object"]["status"] = "evt_won", "won"
    assert send_stripe(hooks, won).json["state"] == "ignored"
    assert send_stripe(hooks, fixture("stripe_dispute_closed.json")).json["state"] == "processed"
    assert gifts(session)[0].status == "refunded"


def test_a_paid_invoice_is_a_recurring_gift_in_its_currency_once_a_rate_exists(hooks, hooks_app, session,
                                                                                make_campaign):
    campaign = make_campaign("demo", currency="USD")
    response = send_stripe(hooks, fixture("stripe_invoice_paid.json"))
    assert response.json["state"] == "needs_rate"
    assert gifts(session) == []
    [event] = inbox(session)
    assert "EUR→USD" in event.reason and event.next_attempt_at is not None
    record_rate(session, "EUR", "USD", "1.10", at("2023-01-01 00:00"), "test", CLI)
    session.commit()
    summary = retry_needing_rate(session, hooks_app.config["TRACKER_SETTINGS"], now=event.next_attempt_at)
    session.commit()
    assert summary == {"tried": 1, "processed": 1}
    [gift] = gifts(session)
    assert (gift.amount_minor, gift.currency, gift.goal_amount_minor, gift.recurring) == (500, "EUR", 550, True)
    assert campaign_progress(session, campaign).raised.minor == 550


def test_a_gift_for_an_unknown_campaign_waits_for_the_admin(hooks, admin, session, make_campaign):
    make_campaign("demo")
    event = fixture("stripe_checkout_session_completed.json")
    event["data"]["object"]["metadata"]["campaign"] = "spring-appeal"
    assert send_stripe(hooks, event).json["state"] == "needs_attention"
    page = admin.get("/admin/connections")
    assert b"there is no campaign &#39;spring-appeal&#39;" in page.data
    make_campaign("spring-appeal")
    [stored] = inbox(session)
    response = admin.post(f"/admin/connections/events/{stored.id}/process")
    assert response.status_code == 302
    [gift] = gifts(session)
    assert gift.campaign.slug == "spring-appeal"


def test_an_archived_campaign_is_not_counted(hooks, session, make_campaign):
    make_campaign("demo", status="archived")
    assert send_stripe(hooks, fixture("stripe_checkout_session_completed.json")).json["state"] == "needs_attention"
    assert session.scalar(select(func.count()).select_from(Donation)) == 0


ODD_OBJECTS = [
    [], "text", None, {"id": ["x"], "amount_total": "25.00", "currency": "usd", "payment_status": "paid"},
    {"id": "cs_1", "amount_total": 2500, "currency": "zzz", "payment_status": "paid"},
    {"id": "cs_2", "amount_total": 2500, "currency": 840, "payment_status": "paid", "metadata": []},
    {"id": "cs_3", "amount_total": -5, "currency": "usd", "payment_status": "paid"},
    {"id": "cs_\u0000nul", "amount_total": 2500, "currency": "usd", "payment_status": "paid",
     "customer_details": {"name": "\u0000" * 500}, "client_reference_id": "x" * 500},
    {"id": "ch_1", "amount": 2500, "currency": "usd", "amount_refunded": "all", "payment_intent": {"id": 5}},
]


def test_verified_events_of_any_shape_are_kept_never_a_500(hooks, session, make_campaign):
    make_campaign("demo")
    for number, obj in enumerate(ODD_OBJECTS):
        for kind in ("checkout.session.completed", "charge.refunded", "invoice.paid", "charge.dispute.closed"):
            event = {"id": f"evt_odd_{number}_{kind}", "type": kind, "created": "yesterday", "data": {"object": obj}}
            response = send_stripe(hooks, event)
            assert response.status_code == 200, (obj, kind, response.data)
            assert response.json["state"] in ("processed", "failed", "ignored", "waiting", "needs_attention"), kind
    # Only the session whose id held a NUL made a gift: control characters became spaces, the
    # unusable name and the over-long article were left out.
    [gift] = gifts(session)
    assert (gift.external_id, gift.donor_name, gift.ref) == ("cs_ nul", None, None)
    assert {e.state for e in inbox(session)} >= {"failed", "ignored"}
    nul = {"id": "evt_\u0000", "type": "checkout.session.completed", "data": {"object": {}}}
    assert send_stripe(hooks, nul).status_code == 200


def test_a_webhook_while_the_database_is_away_is_a_503_to_send_again_without_a_traceback(settings_factory, caplog):
    import logging

    from processor_helpers import processor_overrides

    from tracker import create_app

    app = create_app(settings_factory(**processor_overrides(),
                                      **{"database.url": "postgresql+psycopg://nobody@127.0.0.1:9/none"}))
    try:
        with caplog.at_level(logging.INFO):
            for _ in range(3):  # a processor's retries during an outage
                response = send_stripe(app.test_client(), fixture("stripe_checkout_session_completed.json"))
                assert response.status_code == 503 and response.headers["Retry-After"] == "5"
                assert "send it again" in response.json["error"]
    finally:
        app.extensions["tracker_engine"].dispose()
    # Logged as an outage (at most a line a minute), not as a traceback per delivery.
    assert not [record for record in caplog.records if record.exc_info]
    assert all("could not be stored" not in record.getMessage() for record in caplog.records)
