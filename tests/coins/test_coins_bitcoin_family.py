"""BTC, LTC and DOGE addresses against Bitcoin Core's, Litecoin Core's and Dogecoin's key_io vectors."""


import pytest
from factories import load_vectors

from tracker.coins import COINS, InvalidAddress, WrongNetwork, bitcoin, validate_address

BTC = load_vectors("bitcoin_key_io.json")
LTC = load_vectors("litecoin_key_io.json")
DOGE = load_vectors("dogecoin_base58.json")
VERSIONS = load_vectors("base58check.json")["version_bytes"]
# The vector files name chains as the Core projects do; testnet4 (like testnet3) is our "testnet".
CHAIN = {"main": "mainnet", "testnet4": "testnet", "test": "testnet", "signet": "signet", "regtest": "regtest"}


def ids(item: dict) -> str:
    return f"{item.get('chain', '')}-{item['address'][:16]}"


@pytest.mark.parametrize("item", BTC["valid_addresses"], ids=ids)
def test_bitcoin_valid_vectors_decode_to_their_script(item: dict) -> None:
    network = CHAIN[item["chain"]]
    decoded = bitcoin.decode_address(bitcoin.BITCOIN, "Bitcoin", item["address"], network)
    assert decoded.script_pubkey.hex() == item["scriptPubKey"]
    assert validate_address("BTC", item["address"], network) == (
        item["address"].lower() if item["encoding"] == "segwit" else item["address"]
    )


@pytest.mark.parametrize("item", [i for i in BTC["valid_addresses"] if i.get("tryCaseFlip")], ids=ids)
def test_bitcoin_uppercase_segwit_is_accepted_and_returned_lowercase(item: dict) -> None:
    network = CHAIN[item["chain"]]
    assert validate_address("btc", item["address"].upper(), network) == item["address"].lower()


@pytest.mark.parametrize("item", BTC["valid_addresses"], ids=ids)
def test_bitcoin_vectors_are_refused_on_a_network_with_other_parameters(item: dict) -> None:
    network = CHAIN[item["chain"]]
    other = "regtest" if network in ("mainnet", "testnet", "signet") else "mainnet"
    if item["encoding"] == "base58check" and network != "mainnet":
        other = "mainnet"  # testnet, signet and regtest share Base58 version bytes
    with pytest.raises(WrongNetwork):
        validate_address("BTC", item["address"], other)


@pytest.mark.parametrize("network", COINS["BTC"].networks)
@pytest.mark.parametrize("text", BTC["invalid"])
def test_bitcoin_invalid_vectors_are_refused_on_every_network(text: str, network: str) -> None:
    with pytest.raises(InvalidAddress):
        validate_address("BTC", text, network)


def test_bitcoin_version_bytes_match_the_vector_file() -> None:
    main = VERSIONS["bitcoin"]["main"]
    test = VERSIONS["bitcoin"]["testnet_signet_regtest"]
    assert (bitcoin.BITCOIN["mainnet"].p2pkh, bitcoin.BITCOIN["mainnet"].p2sh) == (main["p2pkh"], (main["p2sh"],))
    for network in ("testnet", "signet", "regtest"):
        assert (bitcoin.BITCOIN[network].p2pkh, bitcoin.BITCOIN[network].p2sh) == (test["p2pkh"], (test["p2sh"],))
    for chain, params in BTC["chains"].items():
        assert bitcoin.BITCOIN[CHAIN[chain]].hrp == params["hrp"]


@pytest.mark.parametrize("item", LTC["valid_addresses"], ids=ids)
def test_litecoin_valid_vectors_decode_to_their_script(item: dict) -> None:
    network = CHAIN[item["chain"]]
    decoded = bitcoin.decode_address(bitcoin.LITECOIN, "Litecoin", item["address"], network)
    assert decoded.script_pubkey.hex() == item["scriptPubKey"]
    assert validate_address("LTC", item["address"], network) == (
        item["address"].lower() if item["encoding"] == "segwit" else item["address"]
    )
    if item.get("tryCaseFlip"):
        assert validate_address("LTC", item["address"].upper(), network) == item["address"].lower()


@pytest.mark.parametrize("network", COINS["LTC"].networks)
@pytest.mark.parametrize("text", LTC["invalid"])
def test_litecoin_invalid_vectors_are_refused_on_every_network(text: str, network: str) -> None:
    with pytest.raises(InvalidAddress):
        validate_address("LTC", text, network)


def test_litecoin_still_reads_legacy_p2sh_3_addresses_unchanged() -> None:
    # Version 5 is Bitcoin's P2SH byte; Litecoin Core decodes it as P2SH too (base58check.json note).
    assert validate_address("LTC", "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm") == "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm"
    assert validate_address("LTC", "2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK", "testnet") == "2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK"


def test_litecoin_version_bytes_match_the_vector_file() -> None:
    for chain, network in (("main", "mainnet"), ("test", "testnet")):
        versions = VERSIONS["litecoin"][chain]
        params = bitcoin.LITECOIN[network]
        assert (params.p2pkh, params.p2sh) == (versions["p2pkh"], (versions["p2sh"], versions["p2sh_legacy"]))


@pytest.mark.parametrize("item", DOGE["valid_addresses"], ids=lambda item: item["address"][:16])
def test_dogecoin_valid_vectors_decode_to_their_hash(item: dict) -> None:
    network = "testnet" if item["isTestnet"] else "mainnet"
    script = bitcoin.decode_address(bitcoin.DOGECOIN, "Dogecoin", item["address"], network).script_pubkey.hex()
    expected = (
        f"76a914{item['hash160']}88ac" if item["addrType"] == "pubkey" else f"a914{item['hash160']}87"
    )
    assert script == expected
    assert validate_address("DOGE", item["address"], network) == item["address"]
    with pytest.raises(WrongNetwork):
        validate_address("DOGE", item["address"], "mainnet" if item["isTestnet"] else "testnet")


def test_dogecoin_version_bytes_match_the_vector_file() -> None:
    for chain, network in (("main", "mainnet"), ("test", "testnet")):
        versions = VERSIONS["dogecoin"][chain]
        params = bitcoin.DOGECOIN[network]
        assert (params.p2pkh, params.p2sh) == (versions["p2pkh"], (versions["p2sh"],))


def test_dogecoin_has_no_segwit() -> None:
    with pytest.raises(InvalidAddress, match="looks like a Bitcoin address"):
        validate_address("DOGE", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
