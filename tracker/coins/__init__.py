"""Crypto address validation and payment URIs for the tracker (pure domain code, no web framework)."""

from .addresses import validate_address
from .errors import InvalidAddress, WrongNetwork
from .registry import COINS, Coin, get_coin
from .uri import format_amount, payment_uri

__all__ = [
    "COINS",
    "Coin",
    "InvalidAddress",
    "WrongNetwork",
    "format_amount",
    "get_coin",
    "payment_uri",
    "validate_address",
]
