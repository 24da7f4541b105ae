"""Monero Base58 and addresses against Monero's own unit and functional test vectors."""


import pytest
from factories import load_vectors
from hypothesis import given
from hypothesis import strategies as st

from tracker.coins import COINS, InvalidAddress, WrongNetwork, monero, validate_address

DATA = load_vectors("monero.json")
B58 = DATA["base58"]


@pytest.mark.parametrize("item", B58["encode_block"], ids=lambda item: item["hex"])
def test_encode_block(item: dict) -> None:
    assert monero.encode_block(bytes.fromhex(item["hex"])) == item["base58"]


@pytest.mark.parametrize("item", B58["decode_block_valid"], ids=lambda item: item["base58"])
def test_decode_block(item: dict) -> None:
    assert monero.decode_block(item["base58"]) == bytes.fromhex(item["hex"])


@pytest.mark.parametrize("text", B58["decode_block_invalid"])
def test_decode_block_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        monero.decode_block(text)


@pytest.mark.parametrize("item", B58["encode"], ids=lambda item: item["hex"])
def test_encode(item: dict) -> None:
    assert monero.b58encode(bytes.fromhex(item["hex"])) == item["base58"]


@pytest.mark.parametrize("item", B58["decode_valid"], ids=lambda item: item["base58"])
def test_decode(item: dict) -> None:
    assert monero.b58decode(item["base58"]) == bytes.fromhex(item["hex"])


@pytest.mark.parametrize("text", B58["decode_invalid"])
def test_decode_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        monero.b58decode(text)


@pytest.mark.parametrize("item", DATA["base58_address"]["encode_decode"], ids=lambda item: item["address"][:12])
def test_tagged_encode_and_decode(item: dict) -> None:
    assert monero.encode_tagged(item["tag"], bytes.fromhex(item["data_hex"])) == item["address"]
    assert monero.decode_tagged(item["address"]) == (item["tag"], bytes.fromhex(item["data_hex"]))


@pytest.mark.parametrize("item", DATA["base58_address"]["decode_invalid"], ids=lambda item: item["reason"])
def test_tagged_decode_refuses(item: dict) -> None:
    with pytest.raises(ValueError):
        monero.decode_tagged(item["string"])


@pytest.mark.parametrize("item", DATA["valid_addresses"], ids=lambda item: f"{item['network']}-{item['type']}")
def test_valid_addresses(item: dict) -> None:
    assert validate_address("XMR", item["address"], item["network"]) == item["address"]
    decoded = monero.decode_address(item["address"])
    assert decoded.network == item["network"]
    assert decoded.kind == item["type"]
    assert monero.PREFIXES[item["network"]][item["type"]] == item["prefix"]
    assert decoded.spend_key.hex() == item["public_spend_key"]
    assert decoded.view_key.hex() == item["public_view_key"]
    assert (decoded.payment_id.hex() if decoded.payment_id else None) == item.get("payment_id")
    payment_id = bytes.fromhex(item["payment_id"]) if "payment_id" in item else None
    assert monero.encode_address(item["network"], item["type"], decoded.spend_key, decoded.view_key, payment_id) == item["address"]


@pytest.mark.parametrize("item", DATA["valid_addresses"], ids=lambda item: f"{item['network']}-{item['type']}")
def test_valid_addresses_are_refused_on_other_networks(item: dict) -> None:
    for network in COINS["XMR"].networks:
        if network != item["network"]:
            with pytest.raises(WrongNetwork, match=f"this is a {item['network']} address"):
                validate_address("XMR", item["address"], network)


@pytest.mark.parametrize("network", COINS["XMR"].networks)
@pytest.mark.parametrize("text", DATA["invalid_addresses"])
def test_invalid_addresses(text: str, network: str) -> None:
    with pytest.raises(InvalidAddress):
        validate_address("XMR", text, network)


def test_prefixes_match_the_vector_file() -> None:
    assert monero.PREFIXES == DATA["prefixes"]


@pytest.mark.parametrize("item", DATA["integrated_address_construction"], ids=lambda item: item["payment_id"])
def test_integrated_address_construction(item: dict) -> None:
    assert monero.integrated_address(item["standard_address"], item["payment_id"]) == item["integrated_address"]
    assert validate_address("XMR", item["integrated_address"]) == item["integrated_address"]


@pytest.mark.parametrize("payment_id", DATA["invalid_payment_ids_for_integrated"])
def test_invalid_payment_ids(payment_id: str) -> None:
    standard = DATA["integrated_address_construction"][0]["standard_address"]
    with pytest.raises(ValueError, match="16 hex digits"):
        monero.integrated_address(standard, payment_id)


def test_only_standard_addresses_become_integrated() -> None:
    subaddress = next(i["address"] for i in DATA["valid_addresses"] if i["type"] == "subaddress")
    with pytest.raises(InvalidAddress, match="only a standard address"):
        monero.integrated_address(subaddress, "0123456789abcdef")


def test_address_from_public_keys() -> None:
    item = DATA["mainnet_address_from_public_keys"]
    keys = bytes.fromhex(item["public_keys_hex"])
    assert monero.encode_address("mainnet", "standard", keys[:32], keys[32:]) == item["address"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DATA["valid_addresses"][0]["address"][:-1], "wrong length for a Monero address: 94 characters"),
        (DATA["valid_addresses"][0]["address"][:-1] + "n", "the checksum does not match: a character is mistyped"),
        (DATA["valid_addresses"][0]["address"][:-1] + "0", "the character '0' (zero) is not allowed"),
        (monero.encode_tagged(7, bytes(64)), "this is not a Monero address"),
        (monero.encode_tagged(18, bytes(63) + b"\x01\x02"), "wrong length for a Monero"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "this looks like a Bitcoin address"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_address("XMR", text)
    assert message in str(info.value)


@given(st.binary(max_size=100))
def test_base58_round_trip(data: bytes) -> None:
    assert monero.b58decode(monero.b58encode(data)) == data


@given(st.integers(min_value=0, max_value=2**64 - 1), st.binary(max_size=80))
def test_tagged_round_trip(tag: int, data: bytes) -> None:
    assert monero.decode_tagged(monero.encode_tagged(tag, data)) == (tag, data)
