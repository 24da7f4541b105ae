"""DOGE through Blockbook API v2, replayed from Blockbook's documented answers (docs/api.md)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from chain_helpers import fixture
from sqlalchemy import select

from tracker.campaigns.progress import campaign_progress
from tracker.chains.watcher import watch_coin
from tracker.models import ChainPayment, Donation

W = "DUMh1rPrXTrCN2Z9EHsLPg7b78rACHB2h7"
PATH = f"/api/v2/address/{W}?details=txs&pageSize=50"
DOC_TX = "9e2bc8fbd40af17a6564831f84aef0cab2046d4bad19e91c09d21bff2c851851"
MEMPOOL_TX = "13d26cd939bf5d155b1c60054e02d9c9b832a85e6ec4f2411be44b6b5a2842e9"


@pytest.fixture()
def doge(replay, settings_factory, make_campaign, add_method, rate):
    campaign = make_campaign("news", target="5000", currency="USD")
    add_method("DOGE", W)
    rate("DOGE", "USD", "0.10", datetime.fromtimestamp(1553088212, timezone.utc) - timedelta(hours=1))
    rate("DOGE", "USD", "0.08", datetime.now(timezone.utc) - timedelta(minutes=5))
    replay.answer(PATH, fixture("blockbook/address.json"))
    settings = settings_factory(**{"chains.doge.backend": "blockbook", "chains.doge.url": replay.url})
    return campaign, settings


def test_gifts_stay_pending_below_twenty_confirmations_then_count(session, doge, replay):
    campaign, settings = doge
    result = watch_coin(session, settings, "DOGE")
    session.commit()
    assert result.ok and result.recorded == 2 and result.confirmed == 0, result.summary()
    gifts = {d.external_id: d for d in session.scalars(select(Donation))}
    documented = gifts[f"doge:{DOC_TX}:0"]
    # 555,856.79 DOGE at 0.10 USD (55,585.68 USD), the rate of the block's time; the mempool gift at today's rate.
    assert (documented.status, documented.amount_minor, documented.goal_amount_minor) == (
        "pending", 55585679000000, 55585_68)
    assert gifts[f"doge:{MEMPOOL_TX}:0"].goal_amount_minor == 80
    answer = fixture("blockbook/address.json")
    answer["transactions"][1]["confirmations"] = 20
    replay.answer(PATH, answer)
    assert watch_coin(session, settings, "DOGE").confirmed == 1
    session.commit()
    assert campaign_progress(session, campaign).raised.minor == 55585_68


def test_a_double_spent_mempool_gift_is_taken_back_out(session, doge, replay):
    _, settings = doge
    watch_coin(session, settings, "DOGE")
    session.commit()
    answer = fixture("blockbook/address.json")
    del answer["transactions"][0]
    replay.answer(PATH, answer)
    replay.answer(f"/api/v2/tx/{MEMPOOL_TX}", {"error": "Transaction not found"}, status=400)
    assert watch_coin(session, settings, "DOGE").removed == 1
    session.commit()
    payment = session.scalars(select(ChainPayment).where(ChainPayment.txid == MEMPOOL_TX)).one()
    assert payment.state == "removed"
    assert session.get(Donation, payment.donation_id).status == "refunded"


def test_a_followed_gift_is_looked_up_when_it_drops_off_the_first_page(session, doge, replay):
    _, settings = doge
    watch_coin(session, settings, "DOGE")
    session.commit()
    answer = fixture("blockbook/address.json")
    answer["transactions"] = answer["transactions"][:1]
    replay.answer(PATH, answer)
    tx = fixture("blockbook/tx.json")
    tx["confirmations"] = 25
    replay.answer(f"/api/v2/tx/{DOC_TX}", tx)
    assert watch_coin(session, settings, "DOGE").confirmed == 1
