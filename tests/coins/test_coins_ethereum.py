"""Ethereum addresses against the EIP-55 vectors."""


import pytest
from factories import load_vectors

from tracker.coins import InvalidAddress, validate_address
from tracker.coins.ethereum import keccak256, to_checksum_address

DATA = load_vectors("eip55.json")
ADDRESSES = [item["address"] for item in DATA["valid_checksummed"]]


def test_keccak_is_not_nist_sha3() -> None:
    # Keccak-256("") per the Keccak team; NIST SHA3-256("") starts a7ffc6f8.
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("address", ADDRESSES)
def test_checksummed_vectors_validate_unchanged(address: str) -> None:
    assert validate_address("ETH", address) == address
    assert to_checksum_address(address[2:]) == address


@pytest.mark.parametrize("address", ADDRESSES)
def test_single_case_input_is_returned_checksummed(address: str) -> None:
    assert validate_address("eth", address.lower()) == address
    assert validate_address("Eth", "0x" + address[2:].upper()) == address
    assert validate_address("ETH", f"  {address.lower()}\t") == address


@pytest.mark.parametrize("address", [a for a in ADDRESSES if a[2:] not in (a[2:].lower(), a[2:].upper())])
def test_mixed_case_with_a_wrong_checksum_is_refused(address: str) -> None:
    digits = address[2:]
    position = next(i for i, c in enumerate(digits) if c.isalpha())
    flipped = digits[:position] + digits[position].swapcase() + digits[position + 1 :]
    with pytest.raises(InvalidAddress, match="the checksum does not match"):
        validate_address("ETH", "0x" + flipped)


def test_spec_code_test_calls_are_in_the_valid_list() -> None:
    assert set(DATA["spec_code_test_calls"]) <= set(ADDRESSES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "starts with 0x: add it"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "wrong length for an Ethereum address: 39 hex digits"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", "wrong length for an Ethereum address: 41 hex digits"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "the character 'g' is not allowed"),
        ("0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", "starts with 0x"),
        ("vitalik.eth", "starts with 0x"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_address("ETH", text)
    assert message in str(info.value)


def test_the_address_is_the_same_on_sepolia() -> None:
    assert validate_address("ETH", ADDRESSES[4].lower(), "sepolia") == ADDRESSES[4]
