"""Monero through monero-wallet-rpc running a view-only wallet (address and secret view key only).

JSON-RPC at `/json_rpc`, as documented in the Monero developer guide (wallet RPC):
`get_transfers` with `in` and `pool` lists transfers received, each with `txid`, `amount`
(piconero), `address`, `subaddr_index` {`major`, `minor`}, `height`, `timestamp`,
`confirmations` and `double_spend_seen`; `get_transfer_by_txid` answers error -8 when the
wallet does not know a transaction (any more); `get_height` the wallet's height.

A view-only wallet sees incoming outputs but not the key images of its spends, so it cannot
tell change from a gift: move funds from a different account than the one watched (see
docs/chains.md). Only account 0's subaddresses are watched.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from .backend import (
    TXID,
    JsonClient,
    Known,
    Observation,
    Received,
    RefusedAnswer,
    Unreachable,
    log,
    want_dict,
    want_int,
    want_list,
    want_str,
    want_time,
)

_ADDRESS = re.compile(r"[1-9A-HJ-NP-Za-km-z]{95,106}")
TX_NOT_FOUND = -8


class MoneroWalletRpc:
    """Watches a view-only wallet through monero-wallet-rpc."""

    def __init__(self, url: str, *, client: JsonClient | None = None) -> None:
        self.client = client or JsonClient(url)

    def call(self, method: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False) -> Any:
        answer = want_dict(self.client.post("/json_rpc", {"jsonrpc": "2.0", "id": "0", "method": method,
                                                          "params": params or {}}), f"the answer to {method}")
        if "error" in answer:
            error = want_dict(answer["error"], f"{method}'s error")
            if missing_ok and error.get("code") == TX_NOT_FOUND:
                return None
            raise Unreachable(f"{method} failed: {str(error.get('message'))[:200]}")
        return want_dict(answer.get("result"), f"the result of {method}")

    def observe(self, addresses: Sequence[str], following: Sequence[Known], cursor: str | None) -> Observation:
        height = want_int(self.call("get_height").get("height"), "the wallet's height", maximum=10**9)
        watched = set(addresses)
        result = self.call("get_transfers", {"in": True, "pool": True, "account_index": 0})
        seen: dict[tuple[str, int], Received] = {}
        for kind in ("pool", "in"):  # a mined transfer replaces its pool sighting
            for entry in want_list(result.get(kind, []), f"the {kind} transfers"):
                item = _received(want_dict(entry, f"a {kind} transfer"), watched, height)
                if item is not None:
                    seen[item.key] = item
        gone: list[Known] = []
        for known in following:
            if known.key in seen:
                continue
            answer = self.call("get_transfer_by_txid", {"txid": known.txid, "account_index": 0}, missing_ok=True)
            transfers = [] if answer is None else [
                t for t in want_list(answer.get("transfers", [answer.get("transfer")]), "the transfers")
                if want_dict(t, "a transfer").get("type") in ("in", "pool")]
            items = [i for i in (_received(t, watched, height) for t in transfers) if i and i.key == known.key]
            if not items:
                gone.append(known)
            else:
                seen[known.key] = items[0]
        return Observation(received=list(seen.values()), gone=gone, cursor=cursor)


def _received(entry: dict[str, Any], watched: set[str], height: int) -> Received | None:
    txid = want_str(entry.get("txid"), "a txid", TXID)
    address = want_str(entry.get("address"), f"{txid}'s address", _ADDRESS)
    index = want_dict(entry.get("subaddr_index"), f"{txid}'s subaddress index")
    major = want_int(index.get("major"), "an account index", maximum=2**32)
    minor = want_int(index.get("minor"), "a subaddress index", maximum=2**32)
    amount = want_int(entry.get("amount"), f"{txid}'s amount", maximum=2**63 - 1)
    if address not in watched:
        log.info("%s pays %s, which is not a watched address: ignored", txid, address)
        return None
    if major != 0:
        log.info("%s pays account %d: only account 0 is watched", txid, major)
        return None
    if entry.get("double_spend_seen") is True:
        log.warning("%s: the daemon saw a double spend: it is not counted until it is mined", txid)
    mined_at = want_int(entry.get("height", 0), f"{txid}'s height", maximum=10**9)
    if mined_at > height:
        raise RefusedAnswer(f"{txid} is at height {mined_at}, above the wallet's {height}")
    confirmations = height - mined_at if mined_at else 0
    when = want_time(entry["timestamp"], f"{txid}'s time") if mined_at and "timestamp" in entry else None
    if amount == 0:
        return None
    return Received(txid, minor, address, amount, confirmations, when)
