"""Ethereum JSON-RPC (any node or provider): native ether sent to watched addresses.

Standard methods only (the Ethereum JSON-RPC specification, ethereum/execution-apis):
`eth_blockNumber`, `eth_getBlockByNumber(number, true)` (full transactions: `hash`,
`from`, `to`, `value` in wei as hex) and `eth_getTransactionByHash` (null once the node no
longer knows the transaction, as after a reorganisation). Blocks are scanned from the last
one seen; the last few are scanned again each pass, so a transfer re-mined at another height
after a reorganisation is still found. Token transfers are not watched.

The tracker keeps ether in gwei (docs/architecture.md, Money): wei below a gwei is not
counted and the payment's reason says so.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from .backend import (
    JsonClient,
    Known,
    Observation,
    Received,
    RefusedAnswer,
    Unreachable,
    log,
    want_dict,
    want_list,
    want_str,
    want_time,
)

TX_HASH = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_QUANTITY = re.compile(r"0x(0|[1-9a-f][0-9a-f]{0,63})")
#: Blocks read in one pass at most; the cursor catches up over the next passes.
MAX_BLOCKS_PER_PASS = 200
#: The first pass starts this many blocks below the head.
FIRST_LOOKBACK = 100
#: Blocks below the cursor read again each pass (re-mined transfers after a reorganisation).
RESCAN = 12
WEI_PER_GWEI = 10**9


def quantity(value: Any, what: str) -> int:
    """A JSON-RPC QUANTITY: hex with 0x, no leading zeros (the spec's encoding)."""
    return int(want_str(value, what, _QUANTITY), 16)


class EthereumRpc:
    """Watches addresses by reading blocks from an Ethereum node."""

    def __init__(self, url: str, *, client: JsonClient | None = None) -> None:
        self.client = client or JsonClient(url)
        self._id = 0

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        answer = want_dict(self.client.post("", {"jsonrpc": "2.0", "id": self._id, "method": method,
                                                 "params": list(params)}), f"the answer to {method}")
        if "error" in answer:
            error = want_dict(answer["error"], f"{method}'s error")
            raise Unreachable(f"{method} failed: {str(error.get('message'))[:200]}")
        if answer.get("id") != self._id:
            raise RefusedAnswer(f"the answer to {method} carries another request's id")
        return answer.get("result")

    def observe(self, addresses: Sequence[str], following: Sequence[Known], cursor: str | None) -> Observation:
        head = quantity(self.call("eth_blockNumber"), "the block number")
        watched = {want_str(a, "address", _ADDRESS).lower(): a for a in addresses}
        if cursor is not None and re.fullmatch(r"[0-9]{1,12}", cursor):
            start = max(0, min(int(cursor), head) - RESCAN + 1)
        else:
            start = max(0, head - FIRST_LOOKBACK)
        end = min(head, start + MAX_BLOCKS_PER_PASS - 1)
        seen: dict[tuple[str, int], Received] = {}
        for number in range(start, end + 1):
            block = want_dict(self.call("eth_getBlockByNumber", hex(number), True), f"block {number}")
            if quantity(block.get("number"), "a block number") != number:
                raise RefusedAnswer(f"asked for block {number}, got another")
            when = want_time(quantity(block.get("timestamp"), "a block time"), f"block {number}'s time")
            for tx in want_list(block.get("transactions"), f"block {number}'s transactions", limit=20_000):
                item = _received(want_dict(tx, f"a transaction of block {number}"), watched, head - number + 1, when)
                if item is not None:
                    seen[item.key] = item
        gone: list[Known] = []
        for known in following:
            if known.key in seen:
                continue
            tx = self.call("eth_getTransactionByHash", known.txid)
            if tx is None:
                gone.append(known)
                continue
            tx = want_dict(tx, f"transaction {known.txid}")
            confirmations, block_time = 0, None
            if tx.get("blockNumber") is not None:
                number = quantity(tx["blockNumber"], "a block number")
                if number > head:
                    raise RefusedAnswer(f"{known.txid} is in block {number}, above the head {head}")
                block = want_dict(self.call("eth_getBlockByNumber", hex(number), False), f"block {number}")
                if block.get("hash") == tx.get("blockHash"):  # still on the canonical chain
                    confirmations = head - number + 1
                    block_time = want_time(quantity(block.get("timestamp"), "a block time"), f"block {number}'s time")
            item = _received(tx, watched, confirmations, block_time)
            if item is None or item.key != known.key:
                raise RefusedAnswer(f"transaction {known.txid} no longer pays {known.address}")
            seen[item.key] = item
        return Observation(received=list(seen.values()), gone=gone, cursor=str(end))


def _received(tx: dict[str, Any], watched: dict[str, str], confirmations: int, when: Any) -> Received | None:
    to = tx.get("to")
    if to is None:  # contract creation
        return None
    to = want_str(to, "a recipient", _ADDRESS).lower()
    if to not in watched:
        return None
    tx_hash = want_str(tx.get("hash"), "a transaction hash", TX_HASH)
    sender = want_str(tx.get("from"), "a sender", _ADDRESS).lower()
    if sender in watched:
        log.info("%s: %s comes from a watched address: not a gift", watched[to], tx_hash)
        return None
    wei = quantity(tx.get("value"), f"{tx_hash}'s value")
    gwei, rest = divmod(wei, WEI_PER_GWEI)
    if gwei == 0:
        return None
    if gwei > 10**16:
        raise RefusedAnswer(f"{tx_hash}'s value is absurdly large")
    note = f"{rest} wei below a gwei not counted" if rest else ""
    return Received(tx_hash, 0, watched[to], gwei, confirmations, when, note)
