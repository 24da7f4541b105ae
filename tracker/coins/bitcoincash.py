"""Bitcoin Cash addresses: CashAddr (canonical) and legacy Base58Check, which is converted to CashAddr."""

from dataclasses import dataclass

from .base58 import Base58Error, b58check_decode
from .cashaddr import CashAddrError, decode_address, encode_address
from .errors import InvalidAddress, wrong_network

P2PKH = 0
P2SH = 1
TOKEN_AWARE_TYPES = (2, 3)  # CashTokens (2023): token-aware P2PKH (z...) and P2SH (r...)


@dataclass(frozen=True)
class BchNetwork:
    """A Bitcoin Cash network: its CashAddr prefix and the legacy Base58 version bytes."""

    prefix: str
    p2pkh: int
    p2sh: int


NETWORKS: dict[str, BchNetwork] = {
    "mainnet": BchNetwork("bitcoincash", 0, 5),
    "testnet": BchNetwork("bchtest", 111, 196),
    "regtest": BchNetwork("bchreg", 111, 196),
}


def _network_of_prefix(prefix: str) -> str | None:
    return next((name for name, net in NETWORKS.items() if net.prefix == prefix), None)


def _from_cashaddr(text: str, network: str) -> str:
    expected = NETWORKS[network]
    try:
        address = decode_address(text, expected.prefix)
    except CashAddrError as error:
        if ":" not in text:
            # Without a prefix the checksum depends on the network guessed: try the others.
            for name, net in NETWORKS.items():
                if name != network:
                    try:
                        decode_address(text, net.prefix)
                    except CashAddrError:
                        continue
                    raise wrong_network(name, network) from None
        raise InvalidAddress(str(error)) from None
    if address.prefix != expected.prefix:
        found = _network_of_prefix(address.prefix)
        if found is not None:
            raise wrong_network(found, network)
        raise InvalidAddress(f"'{address.prefix}:' is not a Bitcoin Cash prefix (expected '{expected.prefix}:')")
    if address.kind in TOKEN_AWARE_TYPES:
        raise InvalidAddress(
            "this is a token-aware Bitcoin Cash address (z... or r...): give the wallet's regular q... or p... address"
        )
    # P2SH may carry a 20-byte hash or, since the 2023 upgrade, a 32-byte one; P2PKH only 20.
    if (address.kind, len(address.hash)) in ((P2PKH, 20), (P2SH, 20), (P2SH, 32)):
        return encode_address(expected.prefix, address.kind, address.hash)
    if address.kind in (P2PKH, P2SH):
        raise InvalidAddress("wrong length for a Bitcoin Cash address")
    raise InvalidAddress(f"this Bitcoin Cash address has an unknown type ({address.kind})")


def _from_legacy(text: str, network: str) -> str:
    expected = NETWORKS[network]
    try:
        payload = b58check_decode(text)
    except Base58Error as error:
        raise InvalidAddress(str(error)) from None
    if len(payload) != 21:
        raise InvalidAddress("wrong length for a Bitcoin Cash address")
    version, hash160 = payload[0], payload[1:]
    if version in (expected.p2pkh, expected.p2sh):
        return encode_address(expected.prefix, P2PKH if version == expected.p2pkh else P2SH, hash160)
    for name, net in NETWORKS.items():
        if version in (net.p2pkh, net.p2sh):
            raise wrong_network(name, network)
    raise InvalidAddress("this is not a Bitcoin Cash address (it starts with a version byte Bitcoin Cash does not use)")


def validate_bch_address(text: str, network: str) -> str:
    """Return the lowercase, prefixed CashAddr form of a CashAddr or legacy Base58 Bitcoin Cash address."""
    # Legacy addresses start with 1, 3, m, n or 2; a CashAddr payload starts with q, p (or z, r).
    if ":" in text or text[:1].lower() in ("q", "p", "z", "r"):
        return _from_cashaddr(text, network)
    return _from_legacy(text, network)
