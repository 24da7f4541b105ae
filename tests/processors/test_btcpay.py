"""BTCPay Server: amounts read from a local Greenfield API, pending then confirmed, retried with backoff."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from processor_helpers import btcpay_headers, fixture, send_btcpay
from sqlalchemy import select

from tracker.models import Donation, InboundEvent
from tracker.processors.jobs import fetch_btcpay_invoices

INVOICE = "LHnZqfKMnBCRZEcJ3cfqx4"


def gifts(session):
    session.rollback()
    return list(session.scalars(select(Donation).where(Donation.source == "btcpay")))


def inbox(session):
    session.rollback()
    return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def processing_invoice():
    invoice = fixture("btcpay_greenfield_invoice.json")
    invoice["status"] = "Processing"
    return invoice


def test_a_payment_is_pending_then_confirmed_when_the_invoice_settles(hooks, session, make_campaign, greenfield):
    make_campaign("demo")
    greenfield.invoices[INVOICE] = processing_invoice()
    response = send_btcpay(hooks, fixture("btcpay_invoice_received_payment.json"))
    assert response.status_code == 200 and response.json["state"] == "processed", response.data
    [gift] = gifts(session)
    assert (gift.amount_minor, gift.currency, gift.status) == (2000, "USD", "pending")
    assert gift.ref == "2026/12/city-council-budget" and gift.donor_name == "Satoshi Reader"
    path, auth = greenfield.requests[0]
    assert path == f"/api/v1/stores/{fixture('btcpay_invoice_settled.json')['storeId']}/invoices/{INVOICE}"
    assert auth == "token greenfield-api-key-0123"
    greenfield.invoices[INVOICE] = fixture("btcpay_greenfield_invoice.json")
    assert send_btcpay(hooks, fixture("btcpay_invoice_settled.json")).json["state"] == "processed"
    [gift] = gifts(session)
    assert gift.status == "confirmed"


def test_a_redelivery_is_the_same_event(hooks, session, make_campaign, greenfield):
    make_campaign("demo")
    greenfield.invoices[INVOICE] = fixture("btcpay_greenfield_invoice.json")
    event = fixture("btcpay_invoice_settled.json")
    send_btcpay(hooks, event)
    again = copy.deepcopy(event)
    again.update(deliveryId="NewDeliveryId000000000", isRedelivery=True)
    assert send_btcpay(hooks, again).json["replay"] is True
    assert len(gifts(session)) == 1


def test_when_greenfield_cannot_answer_the_event_waits_and_the_job_retries_with_backoff(
        hooks, hooks_app, session, make_campaign, greenfield):
    make_campaign("demo")
    response = send_btcpay(hooks, fixture("btcpay_invoice_settled.json"))  # the server does not know it yet
    assert response.status_code == 200 and response.json["state"] == "pending_fetch"
    [event] = inbox(session)
    assert "404" in event.reason and event.attempts == 1
    first_try = event.next_attempt_at
    settings = hooks_app.config["TRACKER_SETTINGS"]
    # Not due yet: nothing is tried.
    assert fetch_btcpay_invoices(session, settings, now=first_try - timedelta(seconds=1))["tried"] == 0
    summary = fetch_btcpay_invoices(session, settings, now=event.next_attempt_at)
    session.commit()
    assert summary == {"tried": 1, "processed": 0, "still_waiting": 1}
    [event] = inbox(session)
    assert event.next_attempt_at == first_try + timedelta(seconds=120)  # exponential backoff: 60 s, then 120 s
    greenfield.invoices[INVOICE] = fixture("btcpay_greenfield_invoice.json")
    summary = fetch_btcpay_invoices(session, settings, now=event.next_attempt_at + timedelta(seconds=1))
    session.commit()
    assert summary["processed"] == 1
    [gift] = gifts(session)
    assert gift.status == "confirmed" and gift.amount_minor == 2000
    # Run again: nothing left to do, nothing doubled.
    assert fetch_btcpay_invoices(session, settings)["tried"] == 0
    assert len(gifts(session)) == 1


def test_an_invoice_that_expires_unpaid_is_taken_back_out(hooks, session, make_campaign, greenfield):
    make_campaign("demo")
    greenfield.invoices[INVOICE] = processing_invoice()
    send_btcpay(hooks, fixture("btcpay_invoice_received_payment.json"))
    assert send_btcpay(hooks, fixture("btcpay_invoice_expired.json")).json["state"] == "processed"
    [gift] = gifts(session)
    assert gift.status == "refunded" and "expired" in gift.reason


def test_an_expired_invoice_with_nothing_counted_is_ignored(hooks, session):
    assert send_btcpay(hooks, fixture("btcpay_invoice_expired.json")).json["state"] == "ignored"


def test_a_forged_btcpay_signature_is_refused(hooks, session):
    body = json.dumps(fixture("btcpay_invoice_settled.json")).encode()
    response = hooks.post("/hooks/btcpay", data=body, headers=btcpay_headers(body, secret="wrong"))
    assert response.status_code == 401
    response = hooks.post("/hooks/btcpay", data=body, headers={"BTCPay-Sig": "sha256=nothex"})
    assert response.status_code == 400
    assert gifts(session) == []
