"""Esplora (Blockstream's REST API, also served by mempool.space and litecoinspace): BTC and LTC.

Endpoints and shapes follow Blockstream/esplora's API.md: `GET /blocks/tip/height` (plain
text), `GET /address/:address/txs` (up to 50 mempool transactions, then the newest 25
confirmed), `GET /address/:address/txs/chain/:last_seen_txid` (the next 25 confirmed) and
`GET /tx/:txid` (404 when the node no longer knows it). A transaction has `txid`, `vin[]`
with `prevout.scriptpubkey_address` and `prevout.value`, `vout[]` with
`scriptpubkey_address` and `value` (satoshis) and `status` {`confirmed`, `block_height`,
`block_time`}.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Sequence

from .backend import (
    TXID,
    JsonClient,
    Known,
    Observation,
    Received,
    RefusedAnswer,
    follow_up,
    log,
    want_dict,
    want_int,
    want_list,
    want_str,
    want_time,
)

#: Confirmed pages followed per address and pass when every transaction on a page is new.
MAX_PAGES = 4
_ADDRESS = re.compile(r"[0-9A-Za-z]{20,100}")


class Esplora:
    """Watches addresses through an Esplora server."""

    def __init__(self, url: str, *, client: JsonClient | None = None) -> None:
        self.client = client or JsonClient(url)

    def tip_height(self) -> int:
        text = self.client.text("/blocks/tip/height").strip()
        if not re.fullmatch(r"[0-9]{1,9}", text, re.ASCII):
            raise RefusedAnswer(f"the tip height is not a number: {text[:40]!r}")
        return int(text)

    def observe(self, addresses: Sequence[str], following: Sequence[Known], cursor: str | None) -> Observation:
        tip = self.tip_height()
        watched = set(addresses)
        seen: dict[tuple[str, int], Received] = {}
        for address in addresses:
            for tx in self._history(address):
                for item in received_by(tx, address, watched, tip):
                    seen[item.key] = item
        def fetch(known: Known) -> list[Received] | None:
            tx = self.client.get(f"/tx/{known.txid}", missing_ok=True)
            return None if tx is None else list(received_by(tx, known.address, watched, tip, txid=known.txid))

        gone = follow_up(seen, following, fetch)
        return Observation(received=list(seen.values()), gone=gone, cursor=cursor)

    def _history(self, address: str) -> list[Any]:
        path = f"/address/{urllib.parse.quote(want_str(address, 'address', _ADDRESS))}/txs"
        page = want_list(self.client.get(path), f"the history of {address}", limit=100)
        history = list(page)
        # Mempool first, then 25 confirmed: follow older pages while they hold only unseen transactions.
        confirmed = [tx for tx in page if _is_confirmed(tx)]
        for _ in range(MAX_PAGES - 1):
            if len(confirmed) < 25:
                break
            last = want_str(want_dict(confirmed[-1], "a transaction").get("txid"), "a txid", TXID)
            confirmed = want_list(self.client.get(f"{path}/chain/{last}"), f"the history of {address}", limit=100)
            history.extend(confirmed)
        return history


def _is_confirmed(tx: Any) -> bool:
    status = want_dict(want_dict(tx, "a transaction").get("status"), "a transaction's status")
    confirmed = status.get("confirmed")
    if not isinstance(confirmed, bool):
        raise RefusedAnswer("a transaction's status.confirmed is not true or false")
    return confirmed


def received_by(tx: Any, address: str, watched: set[str], tip: int, *, txid: str | None = None) -> list[Received]:
    """What `address` received in `tx`; nothing when a watched address pays into it (a move, or change)."""
    tx = want_dict(tx, "a transaction")
    tx_id = want_str(tx.get("txid"), "a txid", TXID)
    if txid is not None and tx_id != txid:
        raise RefusedAnswer(f"asked for transaction {txid}, got {tx_id}")
    inputs = want_list(tx.get("vin"), f"{tx_id}'s inputs")
    outputs = want_list(tx.get("vout"), f"{tx_id}'s outputs")
    spenders = set()
    for vin in inputs:
        prevout = want_dict(vin, f"an input of {tx_id}").get("prevout")
        if prevout is not None:  # null for a coinbase input
            spender = want_dict(prevout, f"an input of {tx_id}").get("scriptpubkey_address")
            if spender is not None:
                spenders.add(want_str(spender, f"an input address of {tx_id}"))
    paid: list[tuple[int, int]] = []
    for index, vout in enumerate(outputs):
        vout = want_dict(vout, f"an output of {tx_id}")
        value = want_int(vout.get("value"), f"the value of {tx_id}:{index}")
        if vout.get("scriptpubkey_address") == address:
            paid.append((index, value))
    if not paid and address not in spenders:
        raise RefusedAnswer(f"the answer for {address} lists transaction {tx_id}, which does not involve it")
    if spenders & watched:
        log.info("%s: %s spends from a watched address: not a gift (a move or change)", address, tx_id)
        return []
    confirmed = _is_confirmed(tx)
    confirmations, when = 0, None
    if confirmed:
        status = tx["status"]
        height = want_int(status.get("block_height"), f"{tx_id}'s block height", maximum=10**8)
        if height > tip:
            raise RefusedAnswer(f"{tx_id} is in block {height}, above the tip {tip}")
        confirmations = tip - height + 1
        when = want_time(status.get("block_time"), f"{tx_id}'s block time")
    return [Received(tx_id, index, address, value, confirmations, when) for index, value in paid if value > 0]
