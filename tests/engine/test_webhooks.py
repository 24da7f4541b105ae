"""Outgoing webhooks: signed per Standard Webhooks (checked with the `standardwebhooks` package),
retried with backoff, switched off after a day of failures, never sent to private addresses."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from factories import CLI
from receiver import Receiver
from sqlalchemy import func, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tracker.donations.ledger import confirm_donation, record_donation, refund_donation
from tracker.errors import InvalidInput
from tracker.models import OutboxEvent, WebhookAttempt, WebhookDelivery, utcnow
from tracker.money import Money
from tracker.webhooks import http
from tracker.webhooks.delivery import BACKOFF, add_endpoint, deliver_due, send_again


@pytest.fixture()
def local_settings(settings_factory):
    return settings_factory(**{"webhooks.allow_private_addresses": True, "webhooks.timeout_seconds": 2})


def _endpoint(session, settings, url, events=("donation.recorded", "donation.confirmed", "donation.refunded",
                                              "milestone.reached", "goal.reached")):
    endpoint = add_endpoint(session, url, list(events), actor=CLI, settings=settings)
    session.commit()
    return endpoint


def test_a_delivery_verifies_with_the_standard_webhooks_library(session, make_campaign, local_settings):
    campaign = make_campaign(target="100", milestones=())
    with Receiver() as receiver:
        endpoint = _endpoint(session, local_settings, receiver.url)
        record_donation(session, campaign, Money.parse("12.50", "USD"), actor=CLI, donor_name="Zoë <b>",
                        is_public=True)
        session.commit()
        assert deliver_due(session, local_settings) == 1
    [got] = receiver.received
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "donation.recorded"
    assert payload["data"]["amount"] == "12.50" and payload["data"]["donor_name"] == "Zoë <b>"
    assert got.headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(got.body.replace(b"12.50", b"99.50"), got.headers)


def test_a_private_donor_is_never_named(session, make_campaign, local_settings):
    campaign = make_campaign()
    with Receiver() as receiver:
        _endpoint(session, local_settings, receiver.url)
        record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI, donor_name="Hidden", message="hi")
        session.commit()
        deliver_due(session, local_settings)
    assert b"Hidden" not in receiver.received[0].body and b'"message":null' in receiver.received[0].body


def test_a_failed_delivery_is_retried_with_backoff_under_the_same_id(session, make_campaign, local_settings):
    campaign = make_campaign()
    with Receiver(statuses=[500, 503]) as receiver:
        _endpoint(session, local_settings, receiver.url)
        record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI)
        session.commit()
        started = utcnow()
        assert deliver_due(session, local_settings) == 1
        delivery = session.scalars(select(WebhookDelivery)).one()
        session.refresh(delivery)
        assert delivery.state == "pending" and delivery.attempts == 1
        assert timedelta(seconds=BACKOFF[0] - 1) < delivery.next_attempt_at - started < timedelta(seconds=BACKOFF[0] + 5)
        assert deliver_due(session, local_settings) == 0  # not due yet
        assert deliver_due(session, local_settings, now=utcnow() + timedelta(seconds=6)) == 0  # taken at real time
        delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
        session.commit()
        deliver_due(session, local_settings)
        session.refresh(delivery)
        assert delivery.attempts == 2 and delivery.state == "pending"
        assert delivery.next_attempt_at - utcnow() > timedelta(seconds=BACKOFF[1] - 10)
        delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
        session.commit()
        deliver_due(session, local_settings)
        session.refresh(delivery)
    assert delivery.state == "delivered"
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1 and len(receiver.received) == 3
    statuses = [a.status_code for a in session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id))]
    assert statuses == [500, 503, 200]
    assert sum(BACKOFF) >= 24 * 3600  # retried for at least a day


def test_an_endpoint_failing_for_a_day_is_switched_off_and_the_owner_is_told(session, make_campaign, local_settings):
    campaign = make_campaign()
    with Receiver(statuses=[500] * 3) as receiver:
        endpoint = _endpoint(session, local_settings, receiver.url)
        record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI)
        endpoint.failing_since = utcnow() - timedelta(hours=25)
        session.commit()
        deliver_due(session, local_settings)
    session.refresh(endpoint)
    assert not endpoint.active and "24 hours" in endpoint.disabled_reason
    notice = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "endpoint.disabled")).one()
    assert notice.mail_due and notice.payload["data"]["endpoint"] == receiver.url


def test_send_again_resends_a_delivered_event(session, make_campaign, local_settings):
    campaign = make_campaign()
    with Receiver() as receiver:
        _endpoint(session, local_settings, receiver.url)
        record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI)
        session.commit()
        deliver_due(session, local_settings)
        delivery = session.scalars(select(WebhookDelivery)).one()
        send_again(session, delivery.id, actor=CLI)
        session.commit()
        deliver_due(session, local_settings)
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_each_event_happens_once(session, make_campaign, local_settings):
    """Recording the same external id twice, crossing a milestone twice (a refund, then a new
    gift): one donation.recorded, one milestone.reached, one goal.reached."""
    campaign = make_campaign(target="100", milestones=(("50", "Half"),))
    with Receiver() as receiver:
        _endpoint(session, local_settings, receiver.url)
        first = record_donation(session, campaign, Money.parse("60", "USD"), actor=CLI, external_id="t1").donation
        record_donation(session, campaign, Money.parse("60", "USD"), actor=CLI, external_id="t1")
        refund_donation(session, first, actor=CLI, reason="mistake")
        record_donation(session, campaign, Money.parse("120", "USD"), actor=CLI, status="pending")
        session.commit()
        pending = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "donation.recorded")).all()
        second = session.scalars(select(WebhookDelivery)).all()
        assert len(pending) == 2
        donation = record_donation(session, campaign, Money.parse("1", "USD"), actor=CLI, status="pending").donation
        confirm_donation(session, donation, actor=CLI)
        session.commit()
        deliver_due(session, local_settings)
    types = sorted(OutboxEvent_type for (OutboxEvent_type,) in session.execute(select(OutboxEvent.type)))
    assert types.count("milestone.reached") == 1
    assert types.count("donation.recorded") == 3 and types.count("donation.refunded") == 1
    assert types.count("donation.confirmed") == 1
    assert types.count("goal.reached") == 0  # 1 raised of 100: the pending 120 is not raised
    assert len(receiver.received) == len(types) and len(second) >= 3


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook",
                                 "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/", "ftp://example.org/",
                                 "http://user:pw@example.org/", "http://0.0.0.0/"])
def test_private_and_odd_urls_are_refused(session, settings_factory, url):
    settings = settings_factory()
    with pytest.raises(InvalidInput):
        add_endpoint(session, url, ["donation.recorded"], actor=CLI, settings=settings)
    answer = http.post(url, b"{}", {}, timeout=1, allow_private=False)
    assert answer.status is None and answer.excerpt.startswith("refused")


def test_the_address_connected_to_is_the_one_checked(monkeypatch):
    """DNS rebinding: the check and the connection use one resolution, so a name that resolves
    to a public address for the check cannot be sent to a loopback address afterwards."""
    calls = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        return [(2, 1, 6, "", ("127.0.0.1" if len(calls) > 1 else "93.184.215.14", port))]

    connected = []
    monkeypatch.setattr(http.socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(http.socket, "create_connection", lambda address, timeout: connected.append(address) or
                        (_ for _ in ()).throw(OSError("stop here")))
    http.post("http://rebinding.example/hook", b"{}", {}, timeout=1, allow_private=False)
    assert calls == ["rebinding.example"] and connected == [("93.184.215.14", 80)]


def test_two_workers_never_send_one_delivery_at_once(engine, session, make_campaign, local_settings):
    """Concurrent sweeps (threads, real connections): each delivery is attempted exactly once."""
    from tracker.db import make_sessionmaker

    campaign = make_campaign()
    with Receiver() as receiver:
        _endpoint(session, local_settings, receiver.url)
        for n in range(10):
            record_donation(session, campaign, Money.parse("1", "USD"), actor=CLI, external_id=f"c{n}")
        session.commit()
        factory = make_sessionmaker(engine)
        barrier = threading.Barrier(4)
        errors = []

        def sweep():
            try:
                with factory() as own:
                    barrier.wait()
                    deliver_due(own, local_settings)
                    own.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 10
    assert len(receiver.received) == 10


def test_a_closed_period_is_announced_once(session, make_campaign, local_settings):
    from datetime import datetime, timezone

    from tracker.campaigns.closing import close_periods

    campaign = make_campaign(period="monthly", target="100", milestones=())
    record_donation(session, campaign, Money.parse("30", "USD"), actor=CLI,
                    received_at=datetime(2026, 11, 10, tzinfo=timezone.utc))
    session.commit()
    december = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)
    assert close_periods(session, local_settings, december) == "1 period(s) closed"
    assert close_periods(session, local_settings, december) == "0 period(s) closed"
    session.commit()
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "period.closed")).one()
    assert event.payload["data"] == {
        "campaign": campaign.slug, "period_start": "2026-11-01T00:00:00Z", "period_end": "2026-12-01T00:00:00Z",
        "raised": "30.00", "target": "100.00", "currency": "USD", "reached": False, "supporters": 1}
