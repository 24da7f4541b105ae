"""Bitcoin Base58 / Base58Check against Bitcoin Core's base58_encode_decode vectors."""


import pytest
from factories import load_vectors
from hypothesis import given
from hypothesis import strategies as st

from tracker.coins.base58 import Base58Error, b58check_decode, b58check_encode, b58decode, b58encode

DATA = load_vectors("base58check.json")
PAIRS = [(item["hex"], item["base58"]) for item in DATA["base58_encode_decode"]]


@pytest.mark.parametrize(("hex_", "text"), PAIRS)
def test_encode_matches_bitcoin_core(hex_: str, text: str) -> None:
    assert b58encode(bytes.fromhex(hex_)) == text


@pytest.mark.parametrize(("hex_", "text"), PAIRS)
def test_decode_matches_bitcoin_core(hex_: str, text: str) -> None:
    assert b58decode(text) == bytes.fromhex(hex_)


@pytest.mark.parametrize("char", ["0", "O", "I", "l", "+", " "])
def test_characters_outside_the_alphabet_are_named(char: str) -> None:
    with pytest.raises(Base58Error) as info:
        b58decode("1FsSia9rv4" + char)
    assert repr(char) in str(info.value) or "space" in str(info.value)


def test_check_round_trip_and_a_mistyped_character() -> None:
    text = b58check_encode(bytes(21))
    assert text == "1111111111111111111114oLvT2"
    assert b58check_decode(text) == bytes(21)
    with pytest.raises(Base58Error, match="checksum does not match"):
        b58check_decode(text[:-1] + "3")


def test_check_refuses_strings_too_short_to_hold_a_checksum() -> None:
    with pytest.raises(Base58Error, match="too short"):
        b58check_decode("111")


@given(st.binary(max_size=64))
def test_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data
    assert b58check_decode(b58check_encode(data)) == data
