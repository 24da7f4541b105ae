"""Twenty deliveries of one event at the same moment, each on its own connection: one event, one gift.

On PostgreSQL the inbox's INSERT … ON CONFLICT DO NOTHING makes the nineteen late ones wait for
the first transaction, then see its row; on SQLite BEGIN IMMEDIATE serialises them.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

import pytest
from factories import CLI, at
from processor_helpers import fixture, processor_overrides
from sqlalchemy import func, select

from tracker.campaigns.progress import campaign_progress
from tracker.config import load_settings
from tracker.db import make_sessionmaker, session_scope
from tracker.donations.ledger import verify_totals
from tracker.donations.rates import record_rate
from tracker.models import Donation, InboundEvent
from tracker.processors.common import Delivery
from tracker.processors.inbox import receive

pytestmark = pytest.mark.slow
THREADS = 20


def deliver_at_once(engine: Any, settings: Any, deliveries: list[tuple[Delivery, bytes]]) -> list[Any]:
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(len(deliveries))
    results: list[Any] = [None] * len(deliveries)

    def run(index: int) -> None:
        delivery, body = deliveries[index]
        barrier.wait(30)
        try:
            with session_scope(factory, write=True) as session:
                event, created = receive(session, settings, "stripe",
                                         delivery, body, now=datetime.now(timezone.utc))
                results[index] = (event.state, created)
        except Exception as exc:  # noqa: BLE001 - handed to the test as the outcome
            results[index] = exc

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(deliveries))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    return results


def stripe_delivery(event: dict[str, Any]) -> tuple[Delivery, bytes]:
    body = json.dumps(event).encode()
    subject = event["data"]["object"].get("payment_intent")
    return Delivery(event["id"], event["type"], event, "current", subject), body


@pytest.fixture()
def settings(database_url: str, tmp_path: Any) -> Any:
    return load_settings(path=None, env={}, overrides={
        "environment": "testing", "instance_path": str(tmp_path), "database.url": database_url,
        "security.secret_key": "test-secret-key-0123456789", **processor_overrides()})


def test_twenty_concurrent_deliveries_of_one_event_make_one_gift(clean_db, session, make_campaign, settings):
    campaign = make_campaign("demo")
    delivery = stripe_delivery(fixture("stripe_checkout_session_completed.json"))
    results = deliver_at_once(clean_db, settings, [delivery] * THREADS)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(created for _state, created in results) == [False] * (THREADS - 1) + [True]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1
    assert session.scalar(select(func.count()).select_from(Donation)) == 1
    assert campaign_progress(session, campaign).raised.minor == 2500
    assert verify_totals(session, campaign) == []


def test_twenty_different_events_about_one_payment_make_one_gift(clean_db, session, make_campaign, settings):
    """Distinct event ids (a completed and async-succeeded session, redeliveries): the gift's own key holds."""
    campaign = make_campaign("demo", currency="EUR")
    record_rate(session, "USD", "EUR", "0.9", at("2020-01-01 00:00"), "test", CLI)
    session.commit()
    deliveries = []
    for index in range(THREADS):
        event = fixture("stripe_checkout_session_completed.json")
        event["id"] = f"evt_{index}"
        deliveries.append(stripe_delivery(event))
    results = deliver_at_once(clean_db, settings, deliveries)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(state == "processed" for state, _created in results)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == THREADS
    [gift] = session.scalars(select(Donation)).all()
    assert gift.goal_amount_minor == 2250
    assert campaign_progress(session, campaign).raised.minor == 2250
    assert verify_totals(session, campaign) == []


def test_twenty_payments_for_one_article_at_once_are_all_in_its_total(clean_db, session, make_campaign, settings):
    """Distinct payments, one article: the article's kept total is one row that twenty writers add to."""
    from tracker.donations.by_article import by_article

    campaign = make_campaign("demo")
    deliveries = []
    for index in range(THREADS):
        event = fixture("stripe_checkout_session_completed.json")
        event["id"] = f"evt_article_{index}"
        event["data"]["object"]["id"] = f"cs_test_article_{index}"
        event["data"]["object"]["payment_intent"] = f"pi_article_{index}"
        deliveries.append(stripe_delivery(event))
    results = deliver_at_once(clean_db, settings, deliveries)
    assert [r for r in results if isinstance(r, Exception)] == []
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Donation)) == THREADS
    [article] = by_article(session, campaign)
    assert (article.ref, article.gifts, article.total.minor) == ("2026/12/city-council-budget", THREADS,
                                                                 THREADS * 2500)
    assert verify_totals(session, campaign) == []
