"""Addresses derived from extended public keys, checked against BIP32's and BIP84's published vectors."""

from __future__ import annotations

import pytest
from chain_helpers import fixture

from tracker.chains.derivation import parse_extended_key
from tracker.coins import InvalidAddress, validate_address
from tracker.coins.base58 import b58check_decode, b58check_encode

VECTORS = fixture("bip32_bip84_vectors.json")
ZPUB = VECTORS["bip84"]["account_zpub"]
XPUB = VECTORS["bip32_public_children"]["parent"]  # depth 3, as an account key is


def test_bip84_receiving_addresses():
    key = parse_extended_key("BTC", ZPUB)
    assert [key.address(i) for i in range(2)] == VECTORS["bip84"]["receiving"]


@pytest.mark.parametrize("child", VECTORS["bip32_public_children"]["children"], ids=lambda c: str(c["path"]))
def test_bip32_public_derivation(child):
    assert parse_extended_key("BTC", XPUB).key.derive(child["path"]).to_base58() == child["xpub"]


def test_an_xpub_gives_legacy_bitcoin_and_the_same_keys_as_cashaddr_for_bch():
    btc = parse_extended_key("BTC", XPUB).address(0)
    bch = parse_extended_key("BCH", XPUB).address(0)
    assert btc.startswith("1") and validate_address("BTC", btc) == btc
    # Same key hash: the BCH address is the CashAddr form of the Bitcoin one.
    assert bch.startswith("bitcoincash:q") and validate_address("BCH", btc) == bch


def _with_version(text: str, version: str) -> str:
    return b58check_encode(bytes.fromhex(version) + b58check_decode(text)[4:])


def test_litecoin_and_dogecoin_prefixes():
    ltc = parse_extended_key("LTC", _with_version(XPUB, "019da462")).address(0)
    doge = parse_extended_key("DOGE", _with_version(XPUB, "02facafd")).address(0)
    assert ltc.startswith("L") and validate_address("LTC", ltc) == ltc
    assert doge.startswith("D") and validate_address("DOGE", doge) == doge


@pytest.mark.parametrize("coin, text, message", [
    ("BTC", VECTORS["bip32_unusable"][0]["key"], "private key"),
    ("BTC", VECTORS["bip32_unusable"][1]["key"], "depth 3"),
    ("BTC", ZPUB[:-1] + ("a" if ZPUB[-1] != "a" else "b"), "checksum"),
    ("XMR", ZPUB, "cannot hold an extended key"),
    ("DOGE", ZPUB, "not supported for DOGE"),
    ("BTC", _with_version(ZPUB, "049d7cb2"), "not supported for BTC"),  # ypub (P2SH-P2WPKH)
])
def test_keys_that_cannot_be_used_are_refused_with_the_reason(coin, text, message):
    with pytest.raises(InvalidAddress, match=message):
        parse_extended_key(coin, text)


def test_a_key_off_the_curve_is_refused():
    payload = bytearray(b58check_decode(XPUB))
    payload[46:78] = b"\x00" * 31 + b"\x07"  # x = 7 is not on secp256k1 (BIP32 test vector 5's reason)
    with pytest.raises(InvalidAddress, match="not a point on the curve"):
        parse_extended_key("BTC", b58check_encode(bytes(payload)))
