"""State changes under real concurrency: N threads with their own connections start at one barrier.

On PostgreSQL (READ COMMITTED) each read-check-write raced before the rows were locked: two
refunds of one gift both succeeded, two confirmations counted a gift twice, "set raised to"
double-clicked wrote two adjustments, and two owners could demote each other. Now exactly one
of the N wins each transition, the others are refused with a Conflict (409 on the web), and
the kept totals always agree with the ledger.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
from factories import CLI, PASSWORD_HASH
from sqlalchemy import func, select

from tracker.accounts.operations import update_user
from tracker.campaigns.operations import get_campaign
from tracker.campaigns.progress import campaign_progress
from tracker.db import make_sessionmaker, session_scope
from tracker.donations.ledger import (
    adjust_raised_to,
    confirm_donation,
    correct_donation,
    get_donation,
    refund_donation,
    verify_totals,
)
from tracker.errors import Conflict
from tracker.models import AuditEvent, Donation, User
from tracker.money import Money

pytestmark = pytest.mark.slow

THREADS = 20


def race(engine: Any, work: Callable[[Any, int], Any], threads: int = THREADS) -> list[Any]:
    """Run `work(session, index)` in `threads` threads at once, each in its own writing transaction.

    Returns each thread's result, or the exception it raised.
    """
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def run(index: int) -> None:
        barrier.wait(30)
        try:
            with session_scope(factory, write=True) as session:
                results[index] = work(session, index)
        except Exception as exc:  # noqa: BLE001 - handed to the test as the outcome
            results[index] = exc

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    return results


def outcomes(results: list[Any]) -> tuple[int, list[Any]]:
    """(successes, the exceptions that are not a Conflict)."""
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    return sum(not isinstance(r, Exception) for r in results), unexpected


@pytest.fixture()
def racing_engine(clean_db: Any) -> Any:
    return clean_db


def test_twenty_refunds_of_one_gift_refund_it_once(racing_engine, session, make_campaign, make_donation):
    campaign = make_campaign("race")
    gift = make_donation(campaign, "7.77")
    results = race(racing_engine, lambda s, i: refund_donation(s, get_donation(s, gift.id), actor=CLI,
                                                                reason=f"refund {i}"))
    won, unexpected = outcomes(results)
    assert (won, unexpected) == (1, [])
    session.expire_all()
    assert campaign_progress(session, campaign).raised == Money(0, "USD")
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "donation.refund")) == 1
    assert verify_totals(session, campaign) == []


def test_twenty_confirmations_of_one_pending_gift_count_it_once(racing_engine, session, make_campaign,
                                                                make_donation):
    campaign = make_campaign("race")
    gift = make_donation(campaign, "6", status="pending")
    results = race(racing_engine, lambda s, i: confirm_donation(s, get_donation(s, gift.id), actor=CLI))
    assert outcomes(results) == (1, [])
    session.expire_all()
    progress = campaign_progress(session, campaign)
    assert (progress.raised, progress.pending, progress.donors) == (Money(600, "USD"), Money(0, "USD"), 1)
    assert verify_totals(session, campaign) == []


def test_set_raised_to_double_clicked_adjusts_once(racing_engine, session, make_campaign, make_donation):
    campaign = make_campaign("race", target="50000")
    make_donation(campaign, "18.34")
    target = Money.parse("20000.00", "USD")
    results = race(racing_engine, lambda s, i: adjust_raised_to(s, get_campaign(s, "race"), target, actor=CLI,
                                                                 reason="bank statement"), threads=8)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(r is not None for r in results) == 1  # the others found nothing left to adjust
    session.expire_all()
    assert campaign_progress(session, campaign).raised == target
    assert session.scalar(select(func.count()).select_from(Donation).where(Donation.source == "adjustment")) == 1
    assert verify_totals(session, campaign) == []


def test_concurrent_corrections_keep_the_totals_exact(racing_engine, session, make_campaign, make_donation):
    campaign = make_campaign("race")
    gift = make_donation(campaign, "10")

    def correct(s: Any, index: int) -> Donation:
        return correct_donation(s, get_donation(s, gift.id), get_campaign(s, "race"), actor=CLI,
                                amount=Money(1000 + index, "USD"), reason=f"correction {index}")

    results = race(racing_engine, correct)
    assert outcomes(results) == (THREADS, [])
    session.expire_all()
    final = session.get(Donation, gift.id)
    assert campaign_progress(session, campaign).raised == Money(final.amount_minor, "USD")
    assert verify_totals(session, campaign) == []


def test_two_owners_demoting_each_other_leave_one_owner(racing_engine, session):
    owners = [User(email=f"owner{i}@example.org", password_hash=PASSWORD_HASH, role="owner") for i in (1, 2)]
    session.add_all(owners)
    session.commit()
    ids = [owner.id for owner in owners]
    for _ in range(5):  # a race is a matter of timing: run it several times
        def demote(s: Any, index: int) -> User:
            other = s.get(User, ids[1 - index])
            return update_user(s, other, role="admin", actor=CLI)

        results = race(racing_engine, demote, threads=2)
        won, unexpected = outcomes(results)
        assert (won, unexpected) == (1, [])
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(User).where(User.role == "owner")) == 1
        for user in session.scalars(select(User)):
            user.role = "owner"
        session.commit()


def test_concurrent_refund_requests_get_one_success_and_409s(app, make_user, session, make_campaign, make_donation):
    """The same race through the web: one redirect, every other request a clear 409, nothing half-saved."""
    campaign = make_campaign("race")
    gift = make_donation(campaign, "7.77")
    make_user()
    clients = [app.test_client() for _ in range(10)]
    for client in clients:
        assert client.post("/admin/login", data={"email": "admin@example.org",
                                                 "password": "correct horse battery staple"}).status_code == 302
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def refund(client: Any) -> None:
        barrier.wait(30)
        statuses.append(client.post(f"/admin/donations/{gift.id}/refund", data={"reason": "twice?"}).status_code)

    workers = [threading.Thread(target=refund, args=(c,)) for c in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert sorted(statuses) == [302] + [409] * 9
    session.expire_all()
    assert campaign_progress(session, campaign).raised == Money(0, "USD")
    assert verify_totals(session, campaign) == []
