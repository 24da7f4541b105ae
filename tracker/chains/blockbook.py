"""Blockbook API v2 (Trezor's indexer, self-hosted): BCH, DOGE, and BTC or LTC too.

Shapes follow trezor/blockbook's docs/api.md (API V2): `GET /api/v2/address/<address>
?details=txs&pageSize=…` answers `address`, `page`, `totalPages`, `itemsOnPage` and
`transactions[]`; `GET /api/v2/tx/<txid>` one transaction (an error when unknown). A
transaction has `txid`, `vin[]` and `vout[]` with `addresses[]` and `value`, `blockHeight`,
`confirmations` (0 in the mempool) and `blockTime`. Every amount is a string of the coin's
smallest unit, and empty fields are omitted, so a missing `confirmations` means 0.

Trezor's public Blockbook instances are for Trezor's wallets only: run your own.
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
    want_digits,
    want_int,
    want_list,
    want_str,
    want_time,
)

PAGE_SIZE = 50
_ADDRESS = re.compile(r"[0-9A-Za-z:]{20,120}")


def same_address(a: str, b: str) -> bool:
    """Blockbook writes CashAddr with or without its `bitcoincash:` prefix; compare without it."""
    return a.split(":")[-1].lower() == b.split(":")[-1].lower() if ":" in a + b else a == b


class Blockbook:
    """Watches addresses through a Blockbook server."""

    def __init__(self, url: str, *, client: JsonClient | None = None) -> None:
        self.client = client or JsonClient(url)

    def observe(self, addresses: Sequence[str], following: Sequence[Known], cursor: str | None) -> Observation:
        watched = list(addresses)
        seen: dict[tuple[str, int], Received] = {}
        for address in addresses:
            quoted = urllib.parse.quote(want_str(address, "address", _ADDRESS), safe="")
            answer = want_dict(self.client.get(f"/api/v2/address/{quoted}?details=txs&pageSize={PAGE_SIZE}"),
                               f"the answer for {address}")
            answered = want_str(answer.get("address"), "the answer's address")
            if not same_address(answered, address):
                raise RefusedAnswer(f"asked about {address}, the answer is about {answered}")
            for tx in want_list(answer.get("transactions", []), f"the transactions of {address}", limit=PAGE_SIZE):
                for item in received_by(tx, address, watched):
                    seen[item.key] = item
        def fetch(known: Known) -> list[Received] | None:
            tx = self.client.get(f"/api/v2/tx/{known.txid}", missing_ok=True)
            return None if tx is None else list(received_by(tx, known.address, watched, txid=known.txid))

        gone = follow_up(seen, following, fetch)
        return Observation(received=list(seen.values()), gone=gone, cursor=cursor)


def _addresses(entry: dict[str, Any], what: str) -> list[str]:
    return [want_str(a, what) for a in want_list(entry.get("addresses", []), what, limit=20)]


def received_by(tx: Any, address: str, watched: Sequence[str], *, txid: str | None = None) -> list[Received]:
    """What `address` received in `tx`; nothing when a watched address pays into it (a move, or change)."""
    tx = want_dict(tx, "a transaction")
    tx_id = want_str(tx.get("txid"), "a txid", TXID)
    if txid is not None and tx_id != txid:
        raise RefusedAnswer(f"asked for transaction {txid}, got {tx_id}")
    spenders = [a for vin in want_list(tx.get("vin", []), f"{tx_id}'s inputs")
                for a in _addresses(want_dict(vin, f"an input of {tx_id}"), f"an input address of {tx_id}")]
    paid: list[tuple[int, int]] = []
    for position, vout in enumerate(want_list(tx.get("vout", []), f"{tx_id}'s outputs")):
        vout = want_dict(vout, f"an output of {tx_id}")
        index = want_int(vout.get("n", 0), f"an output number of {tx_id}", maximum=100_000)
        if index != position:
            raise RefusedAnswer(f"{tx_id}'s outputs are out of order")
        value = want_digits(vout.get("value", "0"), f"the value of {tx_id}:{index}")
        if any(same_address(a, address) for a in _addresses(vout, f"an output address of {tx_id}")):
            paid.append((index, value))
    involved = any(same_address(a, address) for a in spenders)
    if not paid and not involved:
        raise RefusedAnswer(f"the answer for {address} lists transaction {tx_id}, which does not involve it")
    if any(same_address(a, w) for a in spenders for w in watched):
        log.info("%s: %s spends from a watched address: not a gift (a move or change)", address, tx_id)
        return []
    confirmations = want_int(tx.get("confirmations", 0), f"{tx_id}'s confirmations", maximum=10**8)
    when = want_time(tx["blockTime"], f"{tx_id}'s block time") if confirmations and "blockTime" in tx else None
    return [Received(tx_id, index, address, value, confirmations, when) for index, value in paid if value > 0]
