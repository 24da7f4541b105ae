"""The exceptions the coins package raises for text that is not a usable address."""


class InvalidAddress(ValueError):
    """An address (or coin/network name) was refused; the message is meant for the person who typed it."""


class WrongNetwork(InvalidAddress):
    """The address is well formed but belongs to another network of the same coin (e.g. testnet for mainnet)."""


def wrong_network(found: str, expected: str) -> WrongNetwork:
    """Build the message for an address of network `found` given where `expected` is asked for."""
    return WrongNetwork(f"this is a {found} address; a {expected} address is expected here")
