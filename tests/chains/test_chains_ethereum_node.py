"""Ether gifts seen on a real node (anvil): pending, confirmed at depth, taken back out by a reorganisation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from chain_nodes import Process, anvil_binary, free_port, rpc, wait_for
from sqlalchemy import select

from tracker.campaigns.progress import campaign_progress
from tracker.chains.watcher import watch_coin
from tracker.models import ChainPayment, Donation

pytestmark = pytest.mark.slow

ANVIL = anvil_binary()
if ANVIL is None:
    pytest.skip("anvil is missing: set TRACKER_ANVIL to the @foundry-rs/anvil-linux-amd64 package (see .ci/run)",
                allow_module_level=True)


@pytest.fixture()
def node(tmp_path) -> Iterator[str]:
    port = free_port()
    process = Process([ANVIL, "--port", str(port), "--host", "127.0.0.1", "--accounts", "3"], tmp_path / "anvil.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: rpc(url, "eth_blockNumber", timeout=2), "anvil")
        yield url
    finally:
        process.stop()


@pytest.fixture()
def eth(node, session, settings_factory, make_campaign, add_method, rate) -> Any:
    accounts = rpc(node, "eth_accounts")
    publisher, donor = accounts[1], accounts[2]
    campaign = make_campaign("news", currency="USD")
    add_method("ETH", rpc(node, "eth_accounts")[1])
    rate("ETH", "USD", "2000", datetime.now(timezone.utc) - timedelta(hours=1))
    settings = settings_factory(**{"chains.eth.backend": "jsonrpc", "chains.eth.url": node})
    return campaign, settings, publisher, donor


def _send(node: str, sender: str, to: str, wei: int) -> str:
    """Send and wait until it is mined (anvil mines each transaction, but may answer before the block exists)."""
    tx = str(rpc(node, "eth_sendTransaction", [{"from": sender, "to": to, "value": hex(wei)}]))
    wait_for(lambda: rpc(node, "eth_getTransactionReceipt", [tx]), "the transaction's block", seconds=10)
    return tx


def _gifts(session) -> list[Donation]:
    session.expire_all()
    return list(session.scalars(select(Donation).order_by(Donation.id)))


def test_a_gift_is_pending_then_confirmed_at_twelve_blocks(node, session, eth):
    campaign, settings, publisher, donor = eth
    assert watch_coin(session, settings, "ETH").ok
    session.commit()
    tx = _send(node, donor, publisher, 5 * 10**17)  # 0.5 ETH, mined at once (anvil automines)
    result = watch_coin(session, settings, "ETH")
    session.commit()
    assert result.ok and result.recorded == 1, result.summary()
    [gift] = _gifts(session)
    assert (gift.external_id, gift.status, gift.amount_minor, gift.goal_amount_minor) == (
        f"eth:{tx}:0", "pending", 5 * 10**8, 1000_00)
    rpc(node, "anvil_mine", [hex(10)])  # 11 confirmations: not yet
    assert watch_coin(session, settings, "ETH").confirmed == 0
    session.commit()
    rpc(node, "anvil_mine", [hex(1)])
    assert watch_coin(session, settings, "ETH").confirmed == 1
    session.commit()
    assert _gifts(session)[0].status == "confirmed"
    assert campaign_progress(session, campaign).raised.minor == 1000_00


def test_a_reorganisation_takes_the_gift_back_out(node, session, eth):
    campaign, settings, publisher, donor = eth
    watch_coin(session, settings, "ETH")
    session.commit()
    snapshot = rpc(node, "evm_snapshot")
    tx = _send(node, donor, publisher, 10**18)
    assert watch_coin(session, settings, "ETH").recorded == 1
    session.commit()
    assert campaign_progress(session, campaign).pending.minor == 2000_00
    assert rpc(node, "evm_revert", [snapshot]) is True  # the block with the gift is gone
    rpc(node, "anvil_mine", [hex(2)])
    result = watch_coin(session, settings, "ETH")
    session.commit()
    assert result.removed == 1, result.summary()
    [gift] = _gifts(session)
    assert gift.status == "refunded" and tx in gift.reason and "reorganised out" in gift.reason
    assert session.scalars(select(ChainPayment)).one().state == "removed"
    assert campaign_progress(session, campaign).pending.minor == 0


def test_ether_sent_from_the_watched_address_is_not_a_gift(node, session, eth):
    _, settings, publisher, donor = eth
    watch_coin(session, settings, "ETH")
    session.commit()
    _send(node, publisher, donor, 10**17)
    result = watch_coin(session, settings, "ETH")
    assert result.ok and result.recorded == 0
    assert _gifts(session) == []
