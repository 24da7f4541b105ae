"""Addresses of Bitcoin and its close relatives (Litecoin, Dogecoin): Base58Check P2PKH/P2SH and segwit."""

# Version bytes and human-readable parts follow each project's chainparams.cpp; the segwit rules
# are BIP173 (bech32, witness v0) and BIP350 (bech32m, witness v1+), enforced in bech32.py.

from collections.abc import Callable
from dataclasses import dataclass

from .base58 import Base58Error, b58check_decode
from .bech32 import Bech32Error, decode_segwit
from .errors import InvalidAddress, wrong_network

HASH160_SIZE = 20


@dataclass(frozen=True)
class ChainParams:
    """One network's address parameters: Base58 version bytes and the segwit hrp (None: no segwit)."""

    p2pkh: int
    p2sh: tuple[int, ...]
    hrp: str | None


# Network order matters for messages: a shared format is reported as the first network listed.
BITCOIN: dict[str, ChainParams] = {
    "mainnet": ChainParams(0, (5,), "bc"),
    # testnet3 and testnet4 share these; signet uses them too (bitcoin/bitcoin kernel/chainparams.cpp).
    "testnet": ChainParams(111, (196,), "tb"),
    "signet": ChainParams(111, (196,), "tb"),
    "regtest": ChainParams(111, (196,), "bcrt"),
}
LITECOIN: dict[str, ChainParams] = {
    # Litecoin Core writes P2SH with version 50 (M...) and still reads the Bitcoin-style 5 (3...).
    "mainnet": ChainParams(48, (50, 5), "ltc"),
    "testnet": ChainParams(111, (58, 196), "tltc"),
    "regtest": ChainParams(111, (58, 196), "rltc"),
}
DOGECOIN: dict[str, ChainParams] = {
    # Dogecoin has no segwit addresses.
    "mainnet": ChainParams(30, (22,), None),
    "testnet": ChainParams(113, (196,), None),
}


@dataclass(frozen=True)
class DecodedAddress:
    """What an address pays to: its canonical text and the output script it stands for."""

    address: str
    script_pubkey: bytes


def _first_network(chains: dict[str, ChainParams], wanted: str, match: Callable[[ChainParams], bool]) -> str | None:
    for name, params in chains.items():
        if name != wanted and match(params):
            return name
    return None


def decode_address(chains: dict[str, ChainParams], coin_name: str, text: str, network: str) -> DecodedAddress:
    """Decode a Base58Check or segwit address of `network`, or raise InvalidAddress saying what is wrong."""
    params = chains[network]
    lowered = text.lower()
    hrps = {p.hrp for p in chains.values() if p.hrp}
    if any(lowered.startswith(hrp + "1") for hrp in hrps):
        try:
            segwit = decode_segwit(text)
        except Bech32Error as error:
            raise InvalidAddress(str(error)) from None
        if segwit.hrp == params.hrp:
            return DecodedAddress(lowered, segwit.script_pubkey())
        other = _first_network(chains, network, lambda p: p.hrp == segwit.hrp)
        if other is not None:
            raise wrong_network(other, network)
        raise InvalidAddress(f"this is not a {coin_name} address")
    try:
        payload = b58check_decode(text)
    except Base58Error as error:
        raise InvalidAddress(str(error)) from None
    if len(payload) != 1 + HASH160_SIZE:
        raise InvalidAddress(f"wrong length for a {coin_name} address")
    version, hash160 = payload[0], payload[1:]
    if version == params.p2pkh:
        return DecodedAddress(text, b"\x76\xa9\x14" + hash160 + b"\x88\xac")
    if version in params.p2sh:
        return DecodedAddress(text, b"\xa9\x14" + hash160 + b"\x87")
    other = _first_network(chains, network, lambda p: version == p.p2pkh or version in p.p2sh)
    if other is not None:
        raise wrong_network(other, network)
    raise InvalidAddress(f"this is not a {coin_name} address (it starts with a version byte {coin_name} does not use)")


def validate(chains: dict[str, ChainParams], coin_name: str, text: str, network: str) -> str:
    """Return the canonical form: Base58 unchanged, segwit in lower case."""
    return decode_address(chains, coin_name, text, network).address
