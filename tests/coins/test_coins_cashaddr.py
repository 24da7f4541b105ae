"""CashAddr codec and Bitcoin Cash addresses against the CashAddr specification's vectors."""


import pytest
from factories import load_vectors
from hypothesis import given
from hypothesis import strategies as st

from tracker.coins import InvalidAddress, WrongNetwork, validate_address
from tracker.coins.base58 import b58check_encode
from tracker.coins.cashaddr import HASH_SIZES, CashAddrError, decode, decode_address, encode, encode_address

DATA = load_vectors("cashaddr.json")
NETWORK_OF_PREFIX = {prefix: network for network, prefix in DATA["prefixes"].items()}


@pytest.mark.parametrize("text", DATA["checksum_valid"])
def test_valid_checksums(text: str) -> None:
    prefix, data = decode(text, "bitcoincash")
    assert prefix == text.split(":")[0].lower()
    assert encode(prefix, data) == text.lower()


@pytest.mark.parametrize("text", DATA["checksum_invalid"])
def test_invalid_checksums_and_prefixes(text: str) -> None:
    with pytest.raises(CashAddrError):
        decode(text, "bitcoincash")


@pytest.mark.parametrize("item", DATA["larger_payloads"], ids=lambda item: item["cashaddr"][:20])
def test_every_payload_size_decodes_and_encodes(item: dict) -> None:
    prefix = item["cashaddr"].split(":")[0]
    address = decode_address(item["cashaddr"], "unused")
    assert (address.prefix, address.kind, address.hash.hex().upper()) == (prefix, item["type"], item["payload_hex"])
    assert len(address.hash) == item["payload_size_bytes"] == HASH_SIZES[item["version_byte"] & 7]
    assert encode_address(prefix, item["type"], bytes.fromhex(item["payload_hex"])) == item["cashaddr"]


@pytest.mark.parametrize("item", DATA["larger_payloads"], ids=lambda item: item["cashaddr"][:20])
def test_only_real_address_kinds_are_accepted_as_bch(item: dict) -> None:
    prefix = item["cashaddr"].split(":")[0]
    network = NETWORK_OF_PREFIX.get(prefix)
    if network is None:
        with pytest.raises(InvalidAddress, match="not a Bitcoin Cash prefix"):
            validate_address("BCH", item["cashaddr"])
        return
    real = (item["type"], item["payload_size_bytes"]) in ((0, 20), (1, 20), (1, 32))
    if real:
        assert validate_address("BCH", item["cashaddr"], network) == item["cashaddr"]
        assert validate_address("BCH", item["cashaddr"].upper(), network) == item["cashaddr"]
    else:
        with pytest.raises(InvalidAddress, match="wrong length"):
            validate_address("BCH", item["cashaddr"], network)


@pytest.mark.parametrize("item", DATA["legacy_translation"], ids=lambda item: item["legacy"])
def test_legacy_addresses_convert_to_cashaddr(item: dict) -> None:
    assert validate_address("BCH", item["legacy"]) == item["cashaddr"]
    assert validate_address("BCH", item["cashaddr"]) == item["cashaddr"]
    assert validate_address("BCH", item["cashaddr"].split(":")[1]) == item["cashaddr"]
    assert validate_address("BCH", "  " + item["cashaddr"].upper() + "\n") == item["cashaddr"]
    assert decode_address(item["cashaddr"], "bitcoincash").hash.hex() == item["hash160"]


def test_testnet_legacy_converts_to_bchtest() -> None:
    hash160 = bytes.fromhex(DATA["legacy_translation"][0]["hash160"])
    legacy = b58check_encode(bytes([111]) + hash160)
    assert validate_address("BCH", legacy, "testnet") == encode_address("bchtest", 0, hash160)
    with pytest.raises(WrongNetwork, match="this is a testnet address"):
        validate_address("BCH", legacy)


def test_networks_are_told_apart_with_and_without_prefix() -> None:
    testnet = "bchtest:pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t"
    assert validate_address("BCH", testnet.split(":")[1], "testnet") == testnet
    with pytest.raises(WrongNetwork, match="this is a testnet address"):
        validate_address("BCH", testnet)
    with pytest.raises(WrongNetwork, match="this is a testnet address"):
        validate_address("BCH", testnet.split(":")[1])
    with pytest.raises(WrongNetwork, match="this is a mainnet address"):
        validate_address("BCH", "bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2", "regtest")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6c", "the checksum does not match: a character is mistyped"),
        ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvY22gdx6a", "mixed upper and lower case"),
        ("BITCOINCASH:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "mixed upper and lower case"),
        ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvb22gdx6a", "the character 'b' is not allowed"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "this looks like a Bitcoin address"),
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "this looks like a Bitcoin address"),
        ("LT2KVaAy1ppRuxRgrS5RNU3vBsy7RibPeA", "this looks like a Litecoin address"),
    ],
)
def test_bch_refusals_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_address("BCH", text)
    assert message in str(info.value)


def test_token_aware_addresses_are_refused_with_advice() -> None:
    hash160 = bytes.fromhex(DATA["legacy_translation"][0]["hash160"])
    with pytest.raises(InvalidAddress, match="token-aware"):
        validate_address("BCH", encode_address("bitcoincash", 2, hash160))


def test_unknown_types_are_refused() -> None:
    with pytest.raises(InvalidAddress, match="unknown type"):
        validate_address("BCH", encode_address("bitcoincash", 4, bytes(20)))


@given(st.integers(min_value=0, max_value=15), st.sampled_from(HASH_SIZES).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_round_trip(kind: int, hash_: bytes) -> None:
    text = encode_address("bchtest", kind, hash_)
    assert decode_address(text, "bitcoincash") == decode_address(text.split(":")[1], "bchtest")
    address = decode_address(text.upper(), "bitcoincash")
    assert (address.prefix, address.kind, address.hash) == ("bchtest", kind, hash_)
