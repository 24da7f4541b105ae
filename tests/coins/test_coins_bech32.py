"""Bech32/Bech32m strings and segwit addresses against the BIP173 and BIP350 vectors."""

import pytest
from factories import load_vectors
from hypothesis import given
from hypothesis import strategies as st

from tracker.coins.bech32 import (
    Bech32Error,
    Encoding,
    bech32_decode,
    bech32_encode,
    decode_segwit,
    encode_segwit,
)

DATA = load_vectors("bech32.json")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(t, Encoding.BECH32) for t in DATA["valid_bech32"]] + [(t, Encoding.BECH32M) for t in DATA["valid_bech32m"]],
)
def test_valid_checksums_decode_and_reencode(text: str, encoding: Encoding) -> None:
    hrp, data, found = bech32_decode(text)
    assert found is encoding
    assert bech32_encode(hrp, data, encoding) == text.lower()


@pytest.mark.parametrize(
    "item", DATA["invalid_bech32"] + DATA["invalid_bech32m"], ids=lambda item: item["reason"]
)
def test_invalid_checksum_strings_are_refused(item: dict[str, str]) -> None:
    with pytest.raises(Bech32Error):
        bech32_decode(item["string"])


@pytest.mark.parametrize("item", DATA["valid_addresses"], ids=lambda item: item["address"][:14])
def test_valid_segwit_addresses_decode_to_their_script(item: dict[str, str]) -> None:
    address = decode_segwit(item["address"])
    assert address.script_pubkey().hex() == item["scriptPubKey"]
    assert encode_segwit(address.hrp, address.version, address.program) == item["address"].lower()


@pytest.mark.parametrize(
    "item",
    DATA["invalid_addresses"] + DATA["bip173_invalid_addresses_with_reasons"],
    ids=lambda item: item["reason"],
)
def test_invalid_segwit_addresses_are_refused(item: dict[str, str]) -> None:
    text = item["address"]
    try:
        address = decode_segwit(text)
    except Bech32Error:
        return
    # Only the wrong-hrp vectors ("tc1...") pass the codec; they must fail the hrp check instead.
    assert item["reason"] == "Invalid human-readable part"
    assert address.hrp not in ("bc", "tb")


@pytest.mark.parametrize("item", DATA["bip173_superseded_segwit_addresses"]["items"], ids=lambda item: item["address"][:14])
def test_bip173_v1_addresses_with_a_bech32_checksum_are_refused_under_bip350(item: dict[str, str]) -> None:
    with pytest.raises(Bech32Error, match="checksum does not match"):
        decode_segwit(item["address"])


@pytest.mark.parametrize("item", DATA["invalid_address_encode"], ids=lambda item: f"{item['hrp']}-v{item['witness_version']}-{item['program_length']}")
def test_invalid_encodings_are_refused(item: dict[str, object]) -> None:
    with pytest.raises(Bech32Error):
        encode_segwit(str(item["hrp"]), int(str(item["witness_version"])), bytes(int(str(item["program_length"]))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "the checksum does not match: a character is mistyped"),
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "mixed upper and lower case"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "needs bech32m"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "needs bech32"),
        ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "wrong length for a segwit version 0 address"),
        ("bc1pw5dgrnzv", "wrong length for a segwit address: a 1-byte program"),
        ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "unknown witness version (17)"),
        ("bc1gmk9yu", "no data"),
        ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", "invalid padding"),
        ("bc1" + "q" * 88, "too long (91 characters"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(Bech32Error) as info:
        decode_segwit(text)
    assert message in str(info.value)


def test_uppercase_is_accepted_and_lowercased() -> None:
    address = decode_segwit("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")
    assert (address.hrp, address.version, address.program.hex()) == ("bc", 0, "751e76e8199196d454941c45d1b3a323f1433bd6")


@given(
    st.sampled_from(["bc", "tb", "bcrt", "ltc"]),
    st.integers(min_value=0, max_value=16),
    st.binary(min_size=2, max_size=40),
)
def test_segwit_round_trip(hrp: str, version: int, program: bytes) -> None:
    if version == 0 and len(program) not in (20, 32):
        with pytest.raises(Bech32Error):
            encode_segwit(hrp, version, program)
        return
    text = encode_segwit(hrp, version, program)
    assert decode_segwit(text) == decode_segwit(text.upper())
    decoded = decode_segwit(text)
    assert (decoded.hrp, decoded.version, decoded.program) == (hrp, version, program)


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20).map(str.lower),
    st.lists(st.integers(min_value=0, max_value=31), max_size=50),
    st.sampled_from(list(Encoding)),
)
def test_generic_round_trip(hrp: str, data: list[int], encoding: Encoding) -> None:
    text = bech32_encode(hrp, data, encoding)
    if len(text) > 90:
        with pytest.raises(Bech32Error):
            bech32_decode(text)
        return
    assert bech32_decode(text) == (hrp, data, encoding)
