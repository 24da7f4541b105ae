"""Twenty processes record donations at once, with duplicates: every donation lands once, sums exact."""

import multiprocessing

import pytest
from sqlalchemy import func, select

from tracker.audit import Actor
from tracker.campaigns.operations import get_campaign
from tracker.campaigns.progress import campaign_progress
from tracker.db import make_engine, make_sessionmaker, session_scope
from tracker.donations.ledger import record_donation, verify_totals
from tracker.models import Donation
from tracker.money import Money

# Slow (twenty processes); CI runs it with the rest: `pytest -m 'not slow'` leaves it out locally.
pytestmark = pytest.mark.slow

WORKERS = 20
OWN = 8          # donations only this worker sends
SHARED = 6       # donations every worker sends (the same external ids: webhook retries, say)


def shared_amount(index: int) -> int:
    return 10_000 + index * 7


def own_amount(worker: int, index: int) -> int:
    return 1 + worker * 100 + index


def record_in_worker(url: str, worker: int, start: "multiprocessing.synchronize.Event",
                     results: "multiprocessing.Queue[int]") -> None:
    """One process: wait for the start signal, then record each donation in its own transaction."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    created = 0
    start.wait(60)
    payloads = [(f"shared-{i}", shared_amount(i)) for i in range(SHARED)]
    payloads += [(f"w{worker}-{i}", own_amount(worker, i)) for i in range(OWN)]
    # Interleave differently in each worker so duplicates really race.
    payloads = payloads[worker % len(payloads):] + payloads[:worker % len(payloads)]
    try:
        for external_id, minor in payloads:
            with session_scope(factory, write=True) as session:
                campaign = get_campaign(session, "race")
                result = record_donation(session, campaign, Money(minor, "USD"), actor=Actor.cli(),
                                         source="api", external_id=external_id, audit=False)
                created += result.created
    except Exception as exc:  # report it to the test instead of leaving it waiting
        results.put(f"worker {worker}: {exc!r}")
        raise
    finally:
        engine.dispose()
    results.put(created)


def test_twenty_processes_record_at_once_without_losing_or_doubling(database_url, make_campaign, session):
    campaign = make_campaign("race", target="100000")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    results = context.Queue()
    processes = [context.Process(target=record_in_worker, args=(database_url, worker, start, results))
                 for worker in range(WORKERS)]
    for process in processes:
        process.start()
    start.set()
    outcomes = [results.get(timeout=240) for _ in processes]
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    created = sum(outcomes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    expected_rows = WORKERS * OWN + SHARED
    expected_total = sum(shared_amount(i) for i in range(SHARED)) + sum(
        own_amount(w, i) for w in range(WORKERS) for i in range(OWN))
    assert created == expected_rows
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Donation)) == expected_rows
    assert session.scalar(select(func.sum(Donation.goal_amount_minor))) == expected_total
    assert campaign_progress(session, campaign).raised == Money(expected_total, "USD")
    assert campaign_progress(session, campaign).donors == expected_rows
    assert verify_totals(session, campaign) == []
