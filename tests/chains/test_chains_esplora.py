"""A pass over BTC through Esplora, replayed from Esplora's documented answers: pending, confirmed, moves, replacements."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from chain_helpers import fixture
from sqlalchemy import select

from tracker.campaigns.progress import campaign_progress
from tracker.chains.backend import JsonClient
from tracker.chains.esplora import Esplora
from tracker.chains.watcher import watch_coin
from tracker.db import begin_write, make_sessionmaker
from tracker.models import ChainPayment, ChainWatcher, Donation

W = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
MEMPOOL = "a" * 63 + "1"
MINED = "b" * 63 + "2"
MOVE = "c" * 63 + "3"
BLOCK_TIME = datetime.fromtimestamp(1700000000, timezone.utc)


@pytest.fixture()
def btc(replay, settings_factory, make_campaign, add_method, rate):
    """A USD campaign, the watched BTC address, rates at the block's time and now, Esplora at the replay server."""
    campaign = make_campaign("news", target="5000", currency="USD")
    add_method("BTC", W)
    rate("BTC", "USD", "50000", BLOCK_TIME - timedelta(hours=1))
    rate("BTC", "USD", "60000", datetime.now(timezone.utc) - timedelta(hours=1))
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{W}/txs", fixture("esplora/address_txs.json"))
    settings = settings_factory(**{"chains.btc.backend": "esplora", "chains.btc.url": replay.url})
    return campaign, settings


def _donations(session):
    session.expire_all()
    return {d.external_id: d for d in session.scalars(select(Donation))}


def test_a_mempool_gift_is_pending_a_deep_one_confirmed_and_a_move_is_no_gift(session, btc):
    campaign, settings = btc
    result = watch_coin(session, settings, "BTC")
    session.commit()
    assert result.ok and result.recorded == 2 and result.confirmed == 1, result.summary()
    gifts = _donations(session)
    assert set(gifts) == {f"btc:{MEMPOOL}:1", f"btc:{MINED}:0"}  # nothing from the move (MOVE) nor its change
    pending, mined = gifts[f"btc:{MEMPOOL}:1"], gifts[f"btc:{MINED}:0"]
    assert (pending.status, pending.amount_minor, pending.goal_amount_minor) == ("pending", 50000, 3000)
    # Converted at the newest rate at or before the block's time, not today's.
    assert (mined.status, mined.amount_minor, mined.goal_amount_minor, mined.received_at) == (
        "confirmed", 120000, 6000, BLOCK_TIME)
    progress = campaign_progress(session, campaign)
    assert (progress.raised.minor, progress.pending.minor) == (6000, 3000)


def test_a_pass_run_twice_has_the_effect_of_one(session, btc):
    campaign, settings = btc
    watch_coin(session, settings, "BTC")
    session.commit()
    again = watch_coin(session, settings, "BTC")
    session.commit()
    assert again.ok and again.recorded == 0 and again.confirmed == 0
    assert len(_donations(session)) == 2
    assert len(list(session.scalars(select(ChainPayment)))) == 2
    progress = campaign_progress(session, campaign)
    assert (progress.raised.minor, progress.pending.minor) == (6000, 3000)


def test_the_pending_gift_is_confirmed_at_depth(session, btc, replay):
    campaign, settings = btc
    watch_coin(session, settings, "BTC")
    session.commit()
    history = fixture("esplora/address_txs.json")
    history[0] = fixture("esplora/tx_mined.json")
    replay.answer(f"/address/{W}/txs", history)
    replay.answer("/blocks/tip/height", "600000")  # one confirmation: still pending (BTC needs 2)
    assert watch_coin(session, settings, "BTC").confirmed == 0
    session.commit()
    assert _donations(session)[f"btc:{MEMPOOL}:1"].status == "pending"
    replay.answer("/blocks/tip/height", "600001")
    result = watch_coin(session, settings, "BTC")
    session.commit()
    assert result.confirmed == 1
    assert _donations(session)[f"btc:{MEMPOOL}:1"].status == "confirmed"
    assert campaign_progress(session, campaign).raised.minor == 9000


def test_a_replaced_transaction_is_taken_back_out_with_its_reason(session, btc, replay):
    campaign, settings = btc
    watch_coin(session, settings, "BTC")
    session.commit()
    # The mempool transaction was replaced (RBF): gone from the history, and /tx/:txid is a 404.
    replay.answer(f"/address/{W}/txs", fixture("esplora/address_txs.json")[1:])
    result = watch_coin(session, settings, "BTC")
    session.commit()
    assert result.ok and result.removed == 1
    assert f"/tx/{MEMPOOL}" in replay.requests
    gift = _donations(session)[f"btc:{MEMPOOL}:1"]
    assert gift.status == "refunded" and "disappeared from the chain" in gift.reason
    payment = session.scalars(select(ChainPayment).where(ChainPayment.txid == MEMPOOL)).one()
    assert payment.state == "removed" and "replaced" in payment.reason
    assert campaign_progress(session, campaign).pending.minor == 0
    # Never deleted, and not taken out twice.
    assert watch_coin(session, settings, "BTC").removed == 0


def test_a_gift_waits_for_a_rate_when_the_newest_is_too_old(session, replay, settings_factory, make_campaign,
                                                            add_method, rate):
    make_campaign("news", currency="USD")
    add_method("BTC", W)
    rate("BTC", "USD", "50000", BLOCK_TIME - timedelta(hours=30))  # older than rates.max_age_hours (24)
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{W}/txs", fixture("esplora/address_txs.json")[2:])
    settings = settings_factory(**{"chains.btc.backend": "esplora", "chains.btc.url": replay.url})
    result = watch_coin(session, settings, "BTC")
    session.commit()
    assert result.ok and result.recorded == 0 and result.waiting == 1
    payment = session.scalars(select(ChainPayment)).one()
    assert payment.state == "needs_rate" and "older than 24 h" in payment.reason
    assert _donations(session) == {}
    # A rate arrives: the next pass records the gift at it.
    rate("BTC", "USD", "40000", BLOCK_TIME - timedelta(hours=2))
    assert watch_coin(session, settings, "BTC").recorded == 1
    session.commit()
    assert _donations(session)[f"btc:{MINED}:0"].goal_amount_minor == 4800


def test_without_an_active_campaign_a_payment_is_kept_as_seen(session, replay, settings_factory, add_method):
    add_method("BTC", W)
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{W}/txs", fixture("esplora/address_txs.json")[2:])
    settings = settings_factory(**{"chains.btc.backend": "esplora", "chains.btc.url": replay.url})
    assert watch_coin(session, settings, "BTC").waiting == 1
    session.commit()
    assert session.scalars(select(ChainPayment)).one().state == "seen"


def test_two_passes_at_once_record_one_gift(btc, engine, clean_db):
    _, settings = btc
    factory = make_sessionmaker(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=10)

    def one_pass() -> None:
        with factory() as session:
            try:
                start.wait()
                if engine.dialect.name == "sqlite":
                    begin_write(session)  # as the CLI's writing commands do: wait for the lock, not fail
                watch_coin(session, settings, "BTC")
                session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        assert len(list(session.scalars(select(Donation)))) == 2
        assert len(list(session.scalars(select(ChainPayment)))) == 2


def test_a_backend_that_times_out_gets_backoff_and_records_nothing(session, btc, replay):
    _, settings = btc
    replay.answer("/blocks/tip/height", "600000", delay=1.5)
    backend = Esplora(replay.url, client=JsonClient(replay.url, timeout=0.5))
    now = datetime.now(timezone.utc)
    first = watch_coin(session, settings, "BTC", backend=backend, now=now)
    session.commit()
    assert not first.ok and "0.5 s" in first.error
    second = watch_coin(session, settings, "BTC", backend=backend, now=now)
    session.commit()
    status = session.get(ChainWatcher, "BTC")
    assert status.failures == 2 and status.last_success_at is None and "did not answer" in status.last_error
    assert status.next_poll_at == now + timedelta(seconds=240)  # 60 s doubled twice
    assert "failed (2 in a row)" in second.summary()
    assert _donations(session) == {}
    # A good answer resets the count.
    replay.answer("/blocks/tip/height", "600000")
    assert watch_coin(session, settings, "BTC").ok
    session.commit()
    session.expire_all()
    assert session.get(ChainWatcher, "BTC").failures == 0


def test_a_pending_gift_refunded_by_an_admin_is_not_confirmed_later(session, btc, replay):
    from tracker.audit import Actor
    from tracker.donations.ledger import refund_donation

    campaign, settings = btc
    watch_coin(session, settings, "BTC")
    session.commit()
    gift = _donations(session)[f"btc:{MEMPOOL}:1"]
    refund_donation(session, gift, actor=Actor.cli(), reason="sent by mistake, returned")
    session.commit()
    history = fixture("esplora/address_txs.json")
    history[0] = fixture("esplora/tx_mined.json")
    replay.answer(f"/address/{W}/txs", history)
    replay.answer("/blocks/tip/height", "600005")
    assert watch_coin(session, settings, "BTC").confirmed == 0
    session.commit()
    assert _donations(session)[f"btc:{MEMPOOL}:1"].status == "refunded"
    payment = session.scalars(select(ChainPayment).where(ChainPayment.txid == MEMPOOL)).one()
    assert payment.state == "removed" and "refunded in the admin" in payment.reason
    assert campaign_progress(session, campaign).raised.minor == 6000
