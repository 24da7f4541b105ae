"""Money: exact parsing with clear refusals, locale formatting, exact sums in the database."""

from decimal import Decimal

import pytest
from factories import new_campaign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tracker.audit import Actor
from tracker.campaigns.progress import campaign_progress
from tracker.donations.ledger import record_donation
from tracker.models import Campaign, Donation
from tracker.money import (
    CRYPTO_EXPONENTS,
    MAX_MINOR,
    Money,
    MoneyError,
    exponent,
    format_money,
    parse_amount,
    parse_formatted,
)


@pytest.mark.parametrize("text, currency, minor", [
    ("12", "USD", 1200),
    ("12.5", "USD", 1250),
    ("12.50", "usd", 1250),
    (" 7 ", "EUR", 700),
    ("1,234.50", "USD", 123450),
    ("1,234,567", "USD", 123456700),
    ("0.00000001", "BTC", 1),
    ("0.000000000001", "XMR", 1),
    ("0.000000001", "ETH", 1),
    ("500", "JPY", 500),
    ("1.234", "KWD", 1234),
    ("12.340", "USD", 1234),
])
def test_parse_accepts_exact_amounts(text, currency, minor):
    assert parse_amount(text, currency).minor == minor


@pytest.mark.parametrize("text, currency, message", [
    ("12,50", "USD", "use a dot for decimals: 12.50"),
    ("1,234", "USD", "is ambiguous"),
    ("1e3", "USD", "exponent notation is not accepted"),
    ("1E-8", "BTC", "exponent notation is not accepted"),
    ("-5", "USD", "must be positive"),
    ("0", "USD", "more than zero"),
    ("12.345", "USD", "USD has 2 decimal places"),
    ("1.5", "JPY", "JPY has no decimal places"),
    ("0.0000000001", "ETH", "ETH has 9 decimal places"),
    ("Infinity", "USD", "is not a number"),
    ("-inf", "USD", "is not a number"),
    ("NaN", "USD", "is not a number"),
    ("abc", "USD", "is not an amount"),
    ("", "USD", "enter an amount"),
    ("12.", "USD", "is not an amount"),
    ("1 000", "USD", "is not an amount"),
    ("12,3,4", "USD", "is not an amount"),
    ("100000000000001", "USD", "too large"),
    ("9" * 40, "USD", "too large"),
])
def test_parse_refuses_with_a_message_a_person_understands(text, currency, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(text, currency)


@pytest.mark.parametrize("currency, message", [("", "choose a currency"), ("XYZ", "unknown currency"),
                                               ("dollars", "unknown currency"), (None, "choose a currency")])
def test_unknown_or_missing_currency_is_refused(currency, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount("1", currency)


def test_floats_are_refused_everywhere():
    with pytest.raises(TypeError):
        parse_amount(1.5, "USD")
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.from_decimal(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")  # type: ignore[arg-type]


def test_decimal_input_is_exact_or_refused():
    assert parse_amount(Decimal("12.50"), "USD").minor == 1250
    with pytest.raises(MoneyError, match="2 decimal places"):
        parse_amount(Decimal("0.001"), "USD")
    with pytest.raises(MoneyError, match="not a number"):
        parse_amount(Decimal("NaN"), "USD")


def test_negative_and_zero_only_when_allowed():
    assert parse_amount("-5", "USD", allow_negative=True).minor == -500
    assert parse_amount("0", "USD", allow_zero=True).minor == 0


def test_mixing_currencies_is_refused():
    with pytest.raises(MoneyError, match="cannot mix USD and EUR"):
        Money(100, "USD") + Money(100, "EUR")
    with pytest.raises(MoneyError):
        assert Money(100, "USD") < Money(100, "BTC")
    assert Money(100, "USD") + Money(250, "USD") == Money(350, "USD")
    assert Money(100, "USD") - Money(250, "USD") == Money(-150, "USD")


def test_exponents_follow_iso_4217_and_the_design():
    assert [exponent(c) for c in ("USD", "JPY", "KWD", "EUR")] == [2, 0, 3, 2]
    assert CRYPTO_EXPONENTS == {"BTC": 8, "BCH": 8, "LTC": 8, "DOGE": 8, "XMR": 12, "ETH": 9}


def test_max_minor_leaves_headroom_in_a_64_bit_column():
    assert MAX_MINOR * 900 < 2**63 - 1


@pytest.mark.parametrize("money, locale, text", [
    (Money(500000, "USD"), "en_US", "$5,000"),
    (Money(500000, "USD"), "de_DE", "5.000\xa0$"),
    (Money(216000, "USD"), "de_DE", "2.160\xa0$"),
    (Money(1250, "USD"), "en_US", "$12.50"),
    (Money(1250, "EUR"), "de_DE", "12,50\xa0€"),
    (Money(1250, "EUR"), "fr_FR", "12,50\xa0€"),
    (Money(500, "JPY"), "ja_JP", "￥500"),
    (Money(12000, "BTC"), "en_US", "0.00012\xa0BTC"),
    (Money(150000000, "BTC"), "de_DE", "1,5\xa0BTC"),
])
def test_format_for_the_readers_locale(money, locale, text):
    assert format_money(money, locale) == text


def test_format_keeps_every_place_when_asked_not_to_trim():
    assert format_money(Money(500000, "USD"), "en_US", trim_whole=False) == "$5,000.00"


currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP", "BTC", "XMR", "ETH", "CHF", "INR"])
locales = st.sampled_from(["en_US", "de_DE", "fr_FR", "ja_JP", "hi_IN", "de_CH", "sv_SE", "ar_EG", "pt_BR"])


@given(minor=st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), currency=currencies, locale=locales)
def test_parse_of_format_is_identity(minor, currency, locale):
    money = Money(minor, currency)
    assert parse_formatted(format_money(money, locale), currency, locale) == money
    assert parse_amount(money.plain(), currency, allow_zero=True, allow_negative=True) == money


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(st.integers(min_value=1, max_value=MAX_MINOR), min_size=1, max_size=30))
def test_sums_are_exact_in_the_database(session, amounts):
    """SUM over the ledger equals Python's integer sum, even past float's 2**53 precision."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == "sums")) or new_campaign(
        session, "sums", currency="BTC", target="1", milestones=())
    for minor in amounts:
        record_donation(session, campaign, Money(minor, "BTC"), actor=Actor.cli(), audit=False)
    total = session.scalar(select(func.sum(Donation.goal_amount_minor)).where(
        Donation.campaign_id == campaign.id))
    raised = campaign_progress(session, campaign).raised
    session.rollback()
    assert int(total) == sum(amounts)
    assert raised == Money(sum(amounts), "BTC")


@pytest.mark.parametrize("text, message", [
    ("١٢", "is not an amount"),            # Arabic-Indic digits: typed with 0-9 here
    ("１２", "is not an amount"),           # full-width digits
    ("1e400", "write the amount out in full"),
])
def test_only_ascii_digits_and_no_misleading_examples(text, message):
    with pytest.raises(MoneyError, match=message) as info:
        parse_amount(text, "USD")
    assert "e.g. 1000" not in str(info.value)


def test_exponent_message_spells_out_a_small_example():
    with pytest.raises(MoneyError, match=r"e\.g\. 0\.00000001"):
        parse_amount("1E-8", "BTC")
