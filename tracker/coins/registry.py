"""The coins the tracker knows: code, name, URI scheme, stored precision and networks."""

from dataclasses import dataclass

from .errors import InvalidAddress


@dataclass(frozen=True)
class Coin:
    """A supported coin; `decimals` is the precision the tracker stores and accepts in amounts."""

    code: str
    name: str
    uri_scheme: str
    decimals: int
    networks: tuple[str, ...]


COINS: dict[str, Coin] = {
    coin.code: coin
    for coin in (
        Coin("BTC", "Bitcoin", "bitcoin", 8, ("mainnet", "testnet", "signet", "regtest")),
        # The BCH scheme is the CashAddr prefix: bchtest:/bchreg: on the test networks.
        Coin("BCH", "Bitcoin Cash", "bitcoincash", 8, ("mainnet", "testnet", "regtest")),
        Coin("LTC", "Litecoin", "litecoin", 8, ("mainnet", "testnet", "regtest")),
        Coin("DOGE", "Dogecoin", "dogecoin", 8, ("mainnet", "testnet")),
        # Ether has 18 decimals on chain; the tracker keeps 9 (gwei) so amounts fit a signed 64-bit integer.
        Coin("ETH", "Ethereum", "ethereum", 9, ("mainnet", "sepolia")),
        Coin("XMR", "Monero", "monero", 12, ("mainnet", "testnet", "stagenet")),
    )
}

# EIP-155 chain ids, written into EIP-681 URIs for every network but mainnet.
ETH_CHAIN_IDS: dict[str, int] = {"mainnet": 1, "sepolia": 11155111}


def get_coin(code: str) -> Coin:
    """Look a coin up by its code in any case, or raise InvalidAddress("unsupported coin ...")."""
    coin = COINS.get(code.strip().upper()) if isinstance(code, str) else None
    if coin is None:
        supported = ", ".join(COINS)
        shown = code.strip().upper() if isinstance(code, str) else repr(code)
        raise InvalidAddress(f"unsupported coin '{shown}' (supported: {supported})")
    return coin


def check_network(coin: Coin, network: str) -> str:
    """Return the network name in lower case if the coin has it, or raise InvalidAddress."""
    name = network.strip().lower() if isinstance(network, str) else ""
    if name not in coin.networks:
        raise InvalidAddress(f"unsupported network {network!r} for {coin.name} (choose {', '.join(coin.networks)})")
    return name
