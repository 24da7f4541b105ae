"""validate_address: one entry point for every supported coin and network, with helpful refusals."""

from collections.abc import Callable

from . import bitcoin
from .bitcoincash import validate_bch_address
from .errors import InvalidAddress, WrongNetwork
from .ethereum import validate_eth_address
from .monero import validate_xmr_address
from .registry import COINS, check_network, get_coin

Validator = Callable[[str, str], str]


def _validate_eth(text: str, network: str) -> str:
    return validate_eth_address(text)  # the same address is valid on every Ethereum network


_VALIDATORS: dict[str, Validator] = {
    "BTC": lambda text, network: bitcoin.validate(bitcoin.BITCOIN, "Bitcoin", text, network),
    "BCH": validate_bch_address,
    "LTC": lambda text, network: bitcoin.validate(bitcoin.LITECOIN, "Litecoin", text, network),
    "DOGE": lambda text, network: bitcoin.validate(bitcoin.DOGECOIN, "Dogecoin", text, network),
    "ETH": _validate_eth,
    "XMR": validate_xmr_address,
}


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def _other_coin_hint(code: str, text: str) -> str | None:
    """Name another coin (and network) for which the text is a valid address, if there is one."""
    for other in COINS.values():
        if other.code == code:
            continue
        for network in other.networks:
            try:
                _VALIDATORS[other.code](text, network)
            except InvalidAddress:
                continue
            what = other.name if network == other.networks[0] else f"{other.name} {network}"
            return f"this looks like {_article(what)} {what} address, not {_article(COINS[code].name)} {COINS[code].name} one"
    return None


def validate_address(coin: str, text: str, network: str = "mainnet") -> str:
    """Return the canonical form of `text` as an address of `coin` on `network`, or raise InvalidAddress."""
    spec = get_coin(coin)
    network = check_network(spec, network)
    if not isinstance(text, str):
        raise InvalidAddress("the address must be text")
    text = text.strip()
    if not text:
        raise InvalidAddress("the address is empty")
    try:
        return _VALIDATORS[spec.code](text, network)
    except WrongNetwork:
        raise
    except InvalidAddress as error:
        # A string that is fine for another coin is almost surely a paste from the wrong wallet.
        hint = _other_coin_hint(spec.code, text)
        if hint is not None:
            raise InvalidAddress(hint) from error
        raise
