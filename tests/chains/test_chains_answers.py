"""Hostile or broken backend answers are refused with a logged reason; nothing is recorded from them."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any, Callable

import pytest
from chain_helpers import fixture
from sqlalchemy import select

from tracker.chains.backend import MAX_ANSWER_BYTES, BackendError, JsonClient
from tracker.chains.blockbook import Blockbook
from tracker.chains.esplora import Esplora
from tracker.chains.ethereum import EthereumRpc
from tracker.chains.monero import MoneroWalletRpc
from tracker.chains.watcher import watch_coin
from tracker.models import ChainPayment, ChainWatcher, Donation

BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
DOGE = "DUMh1rPrXTrCN2Z9EHsLPg7b78rACHB2h7"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XMR = ("4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge")


def _esplora(change: Callable[[list[Any]], Any]) -> Any:
    history = fixture("esplora/address_txs.json")
    return change(history)


def _set(path: str, value: Any) -> Callable[[Any], Any]:
    """Change one field of a parsed answer (dotted path, list indexes as numbers)."""
    def change(answer: Any) -> Any:
        target = answer
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(last) if isinstance(target, list) else last] = value
        return answer
    return change


ESPLORA_CASES = {
    "a negative value": (_set("0.vout.1.value", -5), "negative"),
    "a value as text": (_set("0.vout.1.value", "50000"), "not an integer"),
    "a value with decimals": (_set("0.vout.1.value", 0.0005), "not an integer"),
    "a value true": (_set("0.vout.1.value", True), "not an integer"),
    "an absurd value": (_set("0.vout.1.value", 10**17), "absurdly large"),
    "a transaction of another address": (_set("0.vout.1.scriptpubkey_address", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
                                         "does not involve it"),
    "a malformed txid": (_set("0.txid", "zz"), "malformed"),
    "a block above the tip": (_set("2.status.block_height", 700000), "above the tip"),
    "an implausible block time": (_set("2.status.block_time", 12), "not a plausible time"),
    "confirmed as text": (_set("2.status.confirmed", "yes"), "true or false"),
    "an object instead of a list": (lambda h: {"txs": h}, "not a list"),
    "a huge page": (lambda h: [copy.deepcopy(h[0]) for _ in range(101)], "more than the 100 accepted"),
}


@pytest.mark.parametrize("case", ESPLORA_CASES, ids=list(ESPLORA_CASES))
def test_esplora_refuses(session, replay, settings_factory, make_campaign, add_method, rate, case, caplog):
    change, reason = ESPLORA_CASES[case]
    make_campaign("news")
    add_method("BTC", BTC)
    rate("BTC", "USD", "50000")
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{BTC}/txs", change(fixture("esplora/address_txs.json")))
    settings = settings_factory(**{"chains.btc.backend": "esplora", "chains.btc.url": replay.url})
    result = watch_coin(session, settings, "BTC")
    session.commit()
    assert not result.ok and reason in result.error
    assert reason in caplog.text  # logged, not only returned
    assert list(session.scalars(select(Donation))) == [] and list(session.scalars(select(ChainPayment))) == []
    assert session.get(ChainWatcher, "BTC").failures == 1


@pytest.mark.parametrize("body, reason", [
    (b"<html>", "not JSON"),
    (b"[" * 100000 + b"]" * 100000, "not JSON"),
    (b"[NaN]", "not JSON"),
    (b'"' + b"x" * (MAX_ANSWER_BYTES + 10) + b'"', "more than"),
    (b"\xff\xfe", "not UTF-8"),
], ids=["html", "deep nesting", "NaN", "too large", "not UTF-8"])
def test_the_client_refuses_what_is_not_a_sane_json_answer(replay, body, reason):
    replay.answer("/x", body)
    with pytest.raises(BackendError, match=reason):
        JsonClient(replay.url).get("/x")


def test_a_slow_answer_is_refused(replay):
    replay.answer("/x", b"[]", delay=1.0)
    with pytest.raises(BackendError, match="0.3 s"):
        JsonClient(replay.url, timeout=0.3).get("/x")


def test_a_backend_that_is_down_is_unreachable():
    with pytest.raises(BackendError, match="could not be reached"):
        Esplora("http://127.0.0.1:9").observe([BTC], [], None)


BLOCKBOOK_CASES = {
    "another address than asked": (_set("address", "DDhUv8JZGmSxKYV95NLnbRTUKni9cDZD3S"), "the answer is about"),
    "a number instead of digits": (_set("transactions.1.vout.0.value", 55585679000000), "not a whole amount"),
    "a negative amount": (_set("transactions.1.vout.0.value", "-1"), "not a whole amount"),
    "a decimal amount": (_set("transactions.1.vout.0.value", "5.5"), "not a whole amount"),
    "negative confirmations": (_set("transactions.1.confirmations", -3), "negative"),
    "outputs out of order": (_set("transactions.1.vout.0.n", 7), "out of order"),
    "a transaction of another address": (_set("transactions.1.vout.0.addresses", ["DSXDQ6rnwLX47WFRnemctoXPHA9pLMxqXn"]),
                                         "does not involve it"),
    "a huge page": (lambda a: dict(a, transactions=a["transactions"] * 26), "more than the 50 accepted"),
}


@pytest.mark.parametrize("case", BLOCKBOOK_CASES, ids=list(BLOCKBOOK_CASES))
def test_blockbook_refuses(replay, case):
    change, reason = BLOCKBOOK_CASES[case]
    replay.answer(f"/api/v2/address/{DOGE}?details=txs&pageSize=50", change(fixture("blockbook/address.json")))
    with pytest.raises(BackendError, match=reason):
        Blockbook(replay.url).observe([DOGE], [], None)


def _eth_node(replay: Any, tx: dict[str, Any], *, wrong_number: bool = False) -> None:
    """A node at block 5 whose block 5 holds `tx` (and whose blocks name another number if `wrong_number`)."""
    def block(request: dict[str, Any]) -> dict[str, Any]:
        asked = request["params"][0]
        return {"jsonrpc": "2.0", "id": request["id"], "result": {
            "number": "0x9" if wrong_number else asked, "hash": "0x" + "ab" * 32, "timestamp": "0x6553f100",
            "transactions": [tx] if asked == "0x5" else []}}
    replay.rpc["eth_blockNumber"] = lambda r: {"jsonrpc": "2.0", "id": r["id"], "result": "0x5"}
    replay.rpc["eth_getBlockByNumber"] = block


GOOD_ETH_TX = {"hash": "0x" + "12" * 32, "from": "0x" + "34" * 20, "to": ETH.lower(), "value": "0xde0b6b3a7640000"}
ETH_CASES = {
    "a value that is not hex": ({"value": "1000"}, "malformed"),
    "a value with leading zeros": ({"value": "0x0de0b6b3a7640000"}, "malformed"),
    "a value as a number": ({"value": 10**18}, "not a string"),
    "an absurd value": ({"value": hex(10**40)}, "absurdly large"),
    "a malformed sender": ({"from": "nobody"}, "malformed"),
}


@pytest.mark.parametrize("case", ETH_CASES, ids=list(ETH_CASES))
def test_ethereum_refuses(replay, case):
    change, reason = ETH_CASES[case]
    _eth_node(replay, dict(GOOD_ETH_TX, **change))
    with pytest.raises(BackendError, match=reason):
        EthereumRpc(replay.url).observe([ETH], [], None)


def test_ethereum_refuses_another_block_than_asked(replay):
    _eth_node(replay, GOOD_ETH_TX, wrong_number=True)
    with pytest.raises(BackendError, match="asked for block"):
        EthereumRpc(replay.url).observe([ETH], [], None)


def test_ethereum_refuses_an_answer_to_another_request(replay):
    replay.rpc["eth_blockNumber"] = lambda r: {"jsonrpc": "2.0", "id": 999, "result": "0x5"}
    with pytest.raises(BackendError, match="another request"):
        EthereumRpc(replay.url).observe([ETH], [], None)


def test_ethereum_counts_gwei_and_says_what_it_could_not(replay):
    _eth_node(replay, dict(GOOD_ETH_TX, value=hex(10**18 + 7)))
    [item] = EthereumRpc(replay.url).observe([ETH], [], None).received
    assert (item.amount_minor, item.address, item.confirmations) == (10**9, ETH, 1)
    assert item.note == "7 wei below a gwei not counted"


def _wallet(replay: Any, transfer: dict[str, Any]) -> None:
    replay.rpc["get_height"] = lambda r: {"id": "0", "jsonrpc": "2.0", "result": {"height": 200}}
    replay.rpc["get_transfers"] = lambda r: {"id": "0", "jsonrpc": "2.0", "result": {"in": [transfer]}}


GOOD_XMR = {"address": XMR, "amount": 1_000_000_000_000, "confirmations": 11, "height": 189, "timestamp": 1700000000,
            "txid": "c" * 64, "type": "in", "subaddr_index": {"major": 0, "minor": 0}, "double_spend_seen": False}
XMR_CASES = {
    "a negative amount": ({"amount": -1}, "negative"),
    "an amount as text": ({"amount": "1000"}, "not an integer"),
    "a height above the wallet's": ({"height": 500}, "above the wallet"),
    "a malformed address": ({"address": "4AdUnd"}, "malformed"),
    "no subaddress index": ({"subaddr_index": None}, "not an object"),
}


@pytest.mark.parametrize("case", XMR_CASES, ids=list(XMR_CASES))
def test_monero_refuses(replay, case):
    change, reason = XMR_CASES[case]
    _wallet(replay, dict(GOOD_XMR, **change))
    with pytest.raises(BackendError, match=reason):
        MoneroWalletRpc(replay.url).observe([XMR], [], None)


def test_monero_ignores_transfers_to_addresses_it_does_not_watch(replay, caplog):
    caplog.set_level(logging.INFO, "tracker.chains")
    other = XMR[:-1] + ("f" if XMR[-1] != "f" else "g")
    _wallet(replay, dict(GOOD_XMR, address=other))
    assert MoneroWalletRpc(replay.url).observe([XMR], [], None).received == []
    assert "not a watched address" in caplog.text


def test_monero_good_answer(replay):
    _wallet(replay, GOOD_XMR)
    [item] = MoneroWalletRpc(replay.url).observe([XMR], [], None).received
    assert (item.amount_minor, item.confirmations, item.index) == (10**12, 11, 0)
    assert json.dumps(item.txid) == json.dumps("c" * 64)


def test_monero_refuses_a_flood_of_transfers(replay):
    replay.rpc["get_height"] = lambda r: {"id": "0", "jsonrpc": "2.0", "result": {"height": 200}}
    replay.rpc["get_transfers"] = lambda r: {"id": "0", "jsonrpc": "2.0", "result": {"in": [GOOD_XMR] * 5001}}
    with pytest.raises(BackendError, match="more than the 5000 accepted"):
        MoneroWalletRpc(replay.url).observe([XMR], [], None)


def test_ethereum_refuses_a_block_too_large_to_be_believed(replay):
    _eth_node(replay, dict(GOOD_ETH_TX, input="0x" + "00" * (MAX_ANSWER_BYTES // 2 + 10)))
    with pytest.raises(BackendError, match="more than"):
        EthereumRpc(replay.url).observe([ETH], [], None)


def test_a_wallet_rpc_error_is_a_failed_pass_not_an_empty_wallet(replay):
    replay.rpc["get_height"] = lambda r: {"id": "0", "jsonrpc": "2.0",
                                          "error": {"code": -13, "message": "No wallet file"}}
    with pytest.raises(BackendError, match="No wallet file"):
        MoneroWalletRpc(replay.url).observe([XMR], [], None)
