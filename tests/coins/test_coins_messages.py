"""Each refusal tells a person what is wrong; the registry lists the supported coins."""

from dataclasses import FrozenInstanceError

import pytest

from tracker.coins import COINS, Coin, InvalidAddress, WrongNetwork, get_coin, validate_address

CASH = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"
SEGWIT = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


@pytest.mark.parametrize(
    ("coin", "text", "network", "message"),
    [
        ("BTC", "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mX", "mainnet", "the checksum does not match: a character is mistyped"),
        ("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "mainnet", "the checksum does not match: a character is mistyped"),
        ("BTC", "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ", "mainnet", "this is a testnet address"),
        ("BTC", "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54", "mainnet", "this is a testnet address"),
        ("BTC", "bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9", "testnet", "this is a regtest address"),
        ("BTC", "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54", "regtest", "this is a testnet address"),
        ("BTC", "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", "signet", "this is a mainnet address"),
        ("BTC", CASH, "mainnet", "this looks like a Bitcoin Cash address"),
        ("BTC", CASH.split(":")[1], "mainnet", "this looks like a Bitcoin Cash address"),
        ("BTC", "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mainnet", "mixed upper and lower case"),
        ("BTC", "11111111111111111111116iowaD", "mainnet", "wrong length for a Bitcoin address"),
        ("BTC", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "mainnet", "this looks like an Ethereum address"),
        ("BTC", "LT2KVaAy1ppRuxRgrS5RNU3vBsy7RibPeA", "mainnet", "this looks like a Litecoin address"),
        ("BTC", "nhRsrUaxZou6sewjqaS37cJrMRJRgwVXdk", "mainnet", "this looks like a Dogecoin testnet address"),
        ("BTC", "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2m0", "mainnet", "the character '0' (zero) is not allowed"),
        ("BTC", "1FsSia9rv4NeEwvJ 2GvXrX7LyxYspbN2mo", "mainnet", "space"),
        ("BCH", SEGWIT, "mainnet", "this looks like a Bitcoin address"),
        ("BCH", CASH, "testnet", "this is a mainnet address"),
        ("LTC", "mwXn5Vhicdav8Av3KMokx4YNuHoGRKxtWs", "mainnet", "this is a testnet address"),
        ("LTC", "tltc1qpftpsvdn6mjp8celrkj0qxqy4jlapl959rlwg9", "regtest", "this is a testnet address"),
        ("LTC", SEGWIT, "mainnet", "this looks like a Bitcoin address"),
        ("DOGE", "DD4KSSuBJqcjuTcvUg1CgUKeurPUFeEZkE", "testnet", "this is a mainnet address"),
        ("DOGE", "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", "mainnet", "this looks like a Bitcoin address"),
        ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "mainnet", "the checksum does not match: a character is mistyped"),
        ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "mainnet", "wrong length for an Ethereum address"),
        ("ETH", SEGWIT, "mainnet", "this looks like a Bitcoin address"),
        ("XMR", "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWD", "mainnet", "wrong length for a Monero address"),
        ("XMR", "9ujeXrjzf7bfeK3KZdCqnYaMwZVFuXemPU8Ubw335rj2FN1CdMiWNyFV3ksEfMFvRp9L9qum5UxkP5rN9aLcPxbH1au4WAB", "mainnet", "this is a testnet address"),
        ("XMR", "53teqCAESLxeJ1REzGMAat1ZeHvuajvDiXqboEocPaDRRmqWoVPzy46GLo866qRFjbNhfkNckyhST3WEvBviDwpUDd7DSzB", "mainnet", "this is a stagenet address"),
        ("BTC", "", "mainnet", "the address is empty"),
        ("XMR", " \n\t", "mainnet", "the address is empty"),
    ],
)
def test_messages(coin: str, text: str, network: str, message: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_address(coin, text, network)
    assert message in str(info.value)


def test_network_mismatches_are_a_distinct_exception() -> None:
    with pytest.raises(WrongNetwork):
        validate_address("BTC", "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54")
    assert issubclass(WrongNetwork, InvalidAddress) and issubclass(InvalidAddress, ValueError)


def test_unsupported_coin() -> None:
    with pytest.raises(InvalidAddress, match="unsupported coin 'XYZ'"):
        validate_address("xyz", SEGWIT)


def test_unsupported_network() -> None:
    with pytest.raises(InvalidAddress, match="unsupported network 'stagenet' for Bitcoin"):
        validate_address("BTC", SEGWIT, "stagenet")


def test_coin_codes_and_networks_are_case_insensitive() -> None:
    assert validate_address(" btc ", SEGWIT, "MainNet") == SEGWIT


def test_surrounding_whitespace_is_stripped() -> None:
    assert validate_address("BTC", f"\n {SEGWIT}\t ") == SEGWIT


def test_registry() -> None:
    assert {code: coin.name for code, coin in COINS.items()} == {
        "BTC": "Bitcoin",
        "BCH": "Bitcoin Cash",
        "LTC": "Litecoin",
        "DOGE": "Dogecoin",
        "ETH": "Ethereum",
        "XMR": "Monero",
    }
    assert {code: coin.decimals for code, coin in COINS.items()} == {
        "BTC": 8, "BCH": 8, "LTC": 8, "DOGE": 8, "ETH": 9, "XMR": 12,
    }
    assert {code: coin.uri_scheme for code, coin in COINS.items()} == {
        "BTC": "bitcoin", "BCH": "bitcoincash", "LTC": "litecoin", "DOGE": "dogecoin", "ETH": "ethereum", "XMR": "monero",
    }
    assert all(coin.networks[0] == "mainnet" for coin in COINS.values())
    assert COINS["BTC"].networks == ("mainnet", "testnet", "signet", "regtest")
    assert COINS["XMR"].networks == ("mainnet", "testnet", "stagenet")
    assert get_coin("doge") is COINS["DOGE"]


def test_coins_are_frozen() -> None:
    coin = COINS["BTC"]
    assert isinstance(coin, Coin)
    with pytest.raises(FrozenInstanceError):
        coin.decimals = 2  # type: ignore[misc]
