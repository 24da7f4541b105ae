"""payment_uri: payment request URIs (BIP21/BIP321, CashAddr, EIP-681, Monero's URI scheme)."""

from decimal import Decimal
from urllib.parse import quote

from .addresses import validate_address
from .registry import ETH_CHAIN_IDS, Coin, check_network, get_coin

# The ledger keeps amounts as signed 64-bit integers of the coin's stored unit.
MAX_UNITS = 2**63 - 1
ETH_WEI_PER_STORED_UNIT = 10**9  # stored unit is gwei (9 decimals); EIP-681 values are in wei


def _split_amount(amount: object, coin: Coin) -> tuple[int, int]:
    """Check an amount and return it as (digits, exponent) with no trailing zeros, value = digits * 10**exponent."""
    if not isinstance(amount, Decimal):
        if isinstance(amount, float):
            raise TypeError(
                "the amount must be a decimal.Decimal, not a float: floats cannot hold most decimal amounts exactly"
            )
        raise TypeError(f"the amount must be a decimal.Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError("the amount must be a number, not NaN or Infinity")
    if amount <= 0:
        raise ValueError("the amount must be more than zero")
    _, digit_tuple, raw_exponent = amount.as_tuple()
    exponent = int(raw_exponent)  # an int for every finite Decimal
    significant = list(digit_tuple)
    while significant[-1] == 0:  # the amount is not zero, so a non-zero digit stops this
        significant.pop()
        exponent += 1
    if -exponent > coin.decimals:
        raise ValueError(
            f"too many decimal places: {coin.name} amounts have at most {coin.decimals}, this one has {-exponent}"
        )
    # Compare digit counts first so an amount like 1E+999999999 never builds a huge integer.
    max_digits = len(str(MAX_UNITS))
    if len(significant) + exponent + coin.decimals > max_digits:
        raise ValueError(f"the amount is too large for a {coin.name} payment request")
    digits = int("".join(map(str, significant)))
    if digits * 10 ** (exponent + coin.decimals) > MAX_UNITS:
        raise ValueError(f"the amount is too large for a {coin.name} payment request")
    return digits, exponent


def _plain(digits: int, exponent: int) -> str:
    """Write digits * 10**exponent in plain decimal notation (no exponent, no trailing zeros)."""
    if exponent >= 0:
        return str(digits) + "0" * exponent
    text = str(digits).rjust(1 - exponent, "0")
    return text[:exponent] + "." + text[exponent:]


def format_amount(amount: Decimal, coin: str) -> str:
    """Check an amount in the coin's main unit and write it as plain decimal text, e.g. 1E-8 -> '0.00000001'."""
    return _plain(*_split_amount(amount, get_coin(coin)))


def _encode(value: str) -> str:
    # BIP321's qchar allows RFC 3986 sub-delims too, but "+" reads as a space to form decoders and
    # ";", "?", "/", "'"... trip simple wallet parsers; percent-encoding is always valid (RFC 3986
    # section 2.1) and every decoder undoes it, so only unreserved characters stay literal. quote()
    # encodes as UTF-8, as BIP21/BIP321 and Monero's URI_SCHEME.md require, and writes space as %20.
    return quote(value, safe="")


def _query(numbers: list[tuple[str, str | None]], texts: list[tuple[str, str | None]]) -> str:
    """Join the present parameters: numbers as they are (digits and '.'), texts percent-encoded."""
    present = [f"{key}={value}" for key, value in numbers if value is not None]
    present += [f"{key}={_encode(value)}" for key, value in texts if value]
    return "?" + "&".join(present) if present else ""


def payment_uri(
    coin: str,
    address: str,
    amount: Decimal | None = None,
    label: str | None = None,
    message: str | None = None,
    *,
    network: str = "mainnet",
) -> str:
    """Build the coin's payment URI for a validated address, an optional amount (main unit) and texts."""
    spec = get_coin(coin)
    network = check_network(spec, network)
    canonical = validate_address(spec.code, address, network)
    split = _split_amount(amount, spec) if amount is not None else None
    if spec.code == "ETH":
        # EIP-681 native payment: value in wei, written as a plain integer (the spec's exponent
        # notation is optional and not every wallet reads it). EIP-681 defines no label or message,
        # so those are left out; a chain id is added off mainnet.
        chain = "" if network == "mainnet" else f"@{ETH_CHAIN_IDS[network]}"
        wei = None
        if split is not None:
            digits, exponent = split
            wei = str(digits * 10 ** (exponent + spec.decimals) * ETH_WEI_PER_STORED_UNIT)
        return f"ethereum:{canonical}{chain}" + _query([("value", wei)], [])
    amount_text = _plain(*split) if split is not None else None
    if spec.code == "XMR":
        # Monero's URI_SCHEME.md: label is the recipient's name, message the transaction's description.
        return f"monero:{canonical}" + _query(
            [("tx_amount", amount_text)], [("tx_description", message), ("recipient_name", label)]
        )
    query = _query([("amount", amount_text)], [("label", label), ("message", message)])
    if spec.code == "BCH":
        # The canonical CashAddr already starts with its prefix, which is the URI scheme: never add another.
        return canonical + query
    # BIP321 lets a URI be upper-cased whole for compact QR codes; we keep the canonical lowercase
    # bech32 so the URI matches what validate_address returns and what people copy and compare.
    return f"{spec.uri_scheme}:{canonical}" + query
