"""payment_uri for every coin: BIP21/BIP321, CashAddr, EIP-681 and Monero URI examples, and amount rules."""

import re
from decimal import Decimal
from urllib.parse import quote, unquote

import pytest
from factories import load_vectors
from hypothesis import given
from hypothesis import strategies as st

from tracker.coins import InvalidAddress, format_amount, payment_uri

BIP21 = load_vectors("bip21_bip321.json")
EIP681 = load_vectors("eip681.json")
XMR = load_vectors("monero.json")
BTC_ADDRESS = "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo"  # a valid mainnet address from Bitcoin Core's key_io vectors
SEGWIT = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
# RFC 3986 section 2: every character a URI may hold literally.
URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


def parse_bip321(uri: str) -> tuple[str, dict[str, list[str]]]:
    """A deliberately small BIP321 reader: scheme, address, decoded parameters; raises on the BIP's invalid cases."""
    scheme, colon, rest = uri.partition(":")
    if not colon or scheme.lower() != "bitcoin":
        raise ValueError("not a bitcoin: URI")
    address, _, query = rest.partition("?")
    params: dict[str, list[str]] = {}
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        params.setdefault(key.lower(), []).append(unquote(value))
    for key in ("amount", "label", "message"):
        if len(params.get(key, [])) > 1:
            raise ValueError(f"{key} appears twice")
    if len(params.get("pop", [])) + len(params.get("req-pop", [])) > 1:
        raise ValueError("pop appears twice")
    if any(key.startswith("req-") for key in params):
        raise ValueError("a required parameter this reader does not know")
    for value in params.get("amount", []):
        if not re.fullmatch(r"\d*(\.\d*)?", value):
            raise ValueError("bad amount")
    for hrp in ("bc", "tb"):
        if any(not v.lower().startswith(hrp + "1") for v in params.get(hrp, [])):
            raise ValueError(f"the {hrp} parameter holds an address of another network")
    return address, params


# --- the BIP examples, read with the small parser -------------------------------------------------


@pytest.mark.parametrize("item", BIP21["bip21_examples"] + BIP21["bip321_valid_examples"], ids=lambda item: item["uri"][8:60])
def test_bip_examples_parse_and_req_parameters_are_refused(item: dict) -> None:
    if "req-" in item["uri"]:
        assert "invalid" in item["description"]
        with pytest.raises(ValueError):
            parse_bip321(item["uri"])
    else:
        parse_bip321(item["uri"])


@pytest.mark.parametrize("item", BIP21["bip321_invalid_examples"], ids=lambda item: item["description"])
def test_bip321_invalid_examples_are_refused_by_the_parser(item: dict) -> None:
    with pytest.raises(ValueError):
        parse_bip321(item["uri"])


def test_the_bip_placeholder_address_is_not_a_real_address() -> None:
    with pytest.raises(InvalidAddress, match="checksum does not match"):
        payment_uri("BTC", "175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W")


# Examples with a fallback address and only the parameters payment_uri writes.
BUILDABLE = [
    item
    for item in BIP21["bip21_examples"] + BIP21["bip321_valid_examples"]
    if "req-" not in item["uri"]
    and parse_bip321(item["uri"])[0]
    and set(parse_bip321(item["uri"])[1]) <= {"amount", "label", "message"}
]


@pytest.mark.parametrize("item", BUILDABLE, ids=lambda item: item["description"])
def test_we_build_the_bip_examples_byte_for_byte(item: dict) -> None:
    address, params = parse_bip321(item["uri"])
    amount = Decimal(params["amount"][0]) if "amount" in params else None
    label = params["label"][0] if "label" in params else None
    message = params["message"][0] if "message" in params else None
    built = payment_uri("BTC", BTC_ADDRESS, amount, label, message)
    assert built == item["uri"].replace(address, BTC_ADDRESS)


def test_the_bip_examples_with_amount_label_and_message_were_all_built() -> None:
    assert {i["description"] for i in BUILDABLE} >= {
        "Just the address",
        "Request 20.30 BTC to \"Luke-Jr\"",
        "Request 50 BTC with message",
    }


# --- Bitcoin and its relatives ---------------------------------------------------------------------


def test_bitcoin_uri_with_everything() -> None:
    uri = payment_uri("btc", SEGWIT.upper(), Decimal("0.0001"), "Reader Fund", "Thanks & more: 100%")
    assert uri == (
        "bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4?amount=0.0001"
        "&label=Reader%20Fund&message=Thanks%20%26%20more%3A%20100%25"
    )


def test_bitcoin_uri_encodes_utf8_and_plus() -> None:
    uri = payment_uri("BTC", BTC_ADDRESS, label="Zoë + Ünïcode ✓")
    assert uri == f"bitcoin:{BTC_ADDRESS}?label=Zo%C3%AB%20%2B%20%C3%9Cn%C3%AFcode%20%E2%9C%93"


def test_bitcoin_testnet_uri() -> None:
    address = "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54"
    assert payment_uri("BTC", address, Decimal("1"), network="testnet") == f"bitcoin:{address}?amount=1"
    with pytest.raises(InvalidAddress, match="this is a testnet address"):
        payment_uri("BTC", address)


def test_empty_texts_are_left_out() -> None:
    assert payment_uri("BTC", BTC_ADDRESS, None, "", "") == f"bitcoin:{BTC_ADDRESS}"


@pytest.mark.parametrize(
    ("coin", "address", "expected"),
    [
        ("LTC", "ltc1qhdhvrwe6rgqns8fz28tee0hphr5x7ulw5exv4w", "litecoin:ltc1qhdhvrwe6rgqns8fz28tee0hphr5x7ulw5exv4w"),
        ("LTC", "LT2KVaAy1ppRuxRgrS5RNU3vBsy7RibPeA", "litecoin:LT2KVaAy1ppRuxRgrS5RNU3vBsy7RibPeA"),
        ("DOGE", "DD4KSSuBJqcjuTcvUg1CgUKeurPUFeEZkE", "dogecoin:DD4KSSuBJqcjuTcvUg1CgUKeurPUFeEZkE"),
    ],
)
def test_litecoin_and_dogecoin_follow_bip21(coin: str, address: str, expected: str) -> None:
    assert payment_uri(coin, address, Decimal("12.5"), "Fund", "Issue 7") == expected + "?amount=12.5&label=Fund&message=Issue%207"


# --- Bitcoin Cash ----------------------------------------------------------------------------------

CASH = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"


@pytest.mark.parametrize(
    "address", [CASH, CASH.upper(), CASH.split(":")[1], "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", f" {CASH} "]
)
def test_bitcoin_cash_uri_has_exactly_one_prefix(address: str) -> None:
    uri = payment_uri("BCH", address, Decimal("0.5"), "Fund")
    assert uri == f"{CASH}?amount=0.5&label=Fund"
    assert uri.count("bitcoincash:") == 1


def test_bitcoin_cash_testnet_uri_uses_the_bchtest_scheme() -> None:
    address = "bchtest:pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t"
    assert payment_uri("BCH", address, network="testnet") == address
    assert payment_uri("BCH", address.split(":")[1], Decimal("1"), network="testnet") == address + "?amount=1"


# --- Ethereum (EIP-681) ----------------------------------------------------------------------------


def parse_eip681_value(uri: str) -> int:
    """Read EIP-681's value parameter (a number, possibly in exponent notation) as an integer of wei."""
    value = dict(part.split("=", 1) for part in uri.partition("?")[2].split("&"))["value"]
    number = Decimal(value)
    assert number == number.to_integral_value()
    return int(number)


def test_eip681_native_payment_example() -> None:
    example = EIP681["examples"][0]
    # The spec's own address has a wrong EIP-55 checksum, so we refuse it as typed...
    with pytest.raises(InvalidAddress, match="checksum does not match"):
        payment_uri("ETH", example["target_address"], Decimal("2.014"))
    # ...and build the same request from its lowercase form: same target, same value in wei.
    uri = payment_uri("ETH", example["target_address"].lower(), Decimal("2.014"))
    assert uri == "ethereum:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359?value=2014000000000000000"
    assert parse_eip681_value(uri) == parse_eip681_value(example["uri"]) == 2014 * 10**15


def test_eip681_token_example_addresses_validate() -> None:
    example = EIP681["examples"][1]
    assert payment_uri("ETH", example["target_address"]) == "ethereum:0x89205A3A3b2A69De6Dbf7f01ED13B2108B2c43e7"


def test_ethereum_ignores_label_and_message_and_adds_a_chain_id_off_mainnet() -> None:
    address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert payment_uri("ETH", address, Decimal("1"), "Fund", "Thanks") == f"ethereum:{address}?value=1000000000000000000"
    assert payment_uri("ETH", address, network="sepolia") == f"ethereum:{address}@11155111"
    assert payment_uri("ETH", address, Decimal("0.000000001")) == f"ethereum:{address}?value=1000000000"


# --- Monero ----------------------------------------------------------------------------------------

CASES = XMR["uri"]["parser_cases_testnet"]
TEST_ADDRESS = CASES["test_address"]


def _reproducible(uri: str) -> bool:
    # Cases we can write: only our three keys, non-empty values, canonical percent-encoding.
    query = uri.partition("?")[2]
    pairs = [part.partition("=") for part in query.split("&")] if query else []
    return all(
        key in ("tx_amount", "tx_description", "recipient_name") and value and quote(unquote(value), safe="") == value
        for key, _, value in pairs
    ) and len({key for key, _, _ in pairs}) == len(pairs)


REPRODUCIBLE = [case["uri"] for case in CASES["cases"] if case["valid"] and _reproducible(case["uri"])]


@pytest.mark.parametrize("uri", REPRODUCIBLE)
def test_we_build_monero_parser_cases_byte_for_byte(uri: str) -> None:
    address, _, query = uri.removeprefix("monero:").partition("?")
    params = {key: unquote(value) for key, _, value in (p.partition("=") for p in query.split("&"))} if query else {}
    amount = Decimal(params["tx_amount"]) if "tx_amount" in params else None
    built = payment_uri("XMR", address, amount, params.get("recipient_name"), params.get("tx_description"), network="testnet")
    assert built == uri


def test_enough_monero_cases_are_reproduced() -> None:
    assert len(REPRODUCIBLE) >= 6


def test_monero_doc_example() -> None:
    example = XMR["uri"]["doc_examples"][0]
    address = example.removeprefix("monero:").partition("?")[0]
    assert payment_uri("XMR", address, Decimal("239.39014"), message="donation") == example


def test_monero_uri_order_and_names() -> None:
    uri = payment_uri("XMR", TEST_ADDRESS, Decimal("0.000000000001"), "Reader Fund", "June issue", network="testnet")
    assert uri == f"monero:{TEST_ADDRESS}?tx_amount=0.000000000001&tx_description=June%20issue&recipient_name=Reader%20Fund"


@pytest.mark.parametrize("amount", ["-1", "0"])
def test_monero_amounts_its_parser_refuses_are_refused_here(amount: str) -> None:
    with pytest.raises(ValueError, match="more than zero"):
        payment_uri("XMR", TEST_ADDRESS, Decimal(amount), network="testnet")


# --- amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("1E-8", "0.00000001"),
        ("0.00000001", "0.00000001"),
        ("1", "1"),
        ("1.00000000", "1"),
        ("20.30", "20.3"),
        ("0.0001", "0.0001"),
        ("1E+2", "100"),
        ("12345678.9", "12345678.9"),
        ("21000000", "21000000"),
        ("0.1000", "0.1"),
    ],
)
def test_amounts_are_written_in_plain_decimal(amount: str, text: str) -> None:
    assert format_amount(Decimal(amount), "BTC") == text
    assert payment_uri("BTC", BTC_ADDRESS, Decimal(amount)) == f"bitcoin:{BTC_ADDRESS}?amount={text}"


@pytest.mark.parametrize(("coin", "places"), [("BTC", 8), ("BCH", 8), ("LTC", 8), ("DOGE", 8), ("XMR", 12), ("ETH", 9)])
def test_decimal_places_per_coin(coin: str, places: int) -> None:
    assert format_amount(Decimal(1).scaleb(-places), coin) == "0." + "0" * (places - 1) + "1"
    with pytest.raises(ValueError, match=f"too many decimal places: .* at most {places}"):
        format_amount(Decimal(1).scaleb(-places - 1), coin)


def test_float_is_refused() -> None:
    with pytest.raises(TypeError, match="not a float"):
        payment_uri("BTC", BTC_ADDRESS, 0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [1, "0.1", True])
def test_other_types_are_refused(amount: object) -> None:
    with pytest.raises(TypeError, match="decimal.Decimal"):
        payment_uri("BTC", BTC_ADDRESS, amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("NaN", "not NaN or Infinity"),
        ("sNaN", "not NaN or Infinity"),
        ("Infinity", "not NaN or Infinity"),
        ("-Infinity", "not NaN or Infinity"),
        ("0", "more than zero"),
        ("-0", "more than zero"),
        ("0E-30", "more than zero"),
        ("-0.5", "more than zero"),
        ("1E+30", "too large"),
        ("1E+999999999", "too large"),
        ("92233720368.54775808", "too large"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(amount: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        payment_uri("BTC", BTC_ADDRESS, Decimal(amount))


def test_amounts_with_thousands_of_digits_are_refused_cleanly() -> None:
    with pytest.raises(ValueError, match="too many decimal places"):
        format_amount(Decimal("1." + "0" * 5000 + "1"), "BTC")
    with pytest.raises(ValueError, match="too large"):
        format_amount(Decimal("1" * 5000), "BTC")


def test_largest_amount_fits_a_signed_64_bit_integer() -> None:
    assert format_amount(Decimal("92233720368.54775807"), "BTC") == "92233720368.54775807"


# --- properties ------------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=40)


@given(
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("21000000"), places=8, allow_nan=False),
    texts,
    texts,
)
def test_bitcoin_uris_read_back_with_the_values_given(amount: Decimal, label: str, message: str) -> None:
    uri = payment_uri("BTC", BTC_ADDRESS, amount, label, message)
    assert URI_CHARS.match(uri)
    address, params = parse_bip321(uri)
    assert address == BTC_ADDRESS
    assert Decimal(params["amount"][0]) == amount
    assert "E" not in params["amount"][0] and "e" not in params["amount"][0]
    assert params.get("label", [""])[0] == label
    assert params.get("message", [""])[0] == message
